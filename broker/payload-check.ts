// A gateway's stream payloads are checked against the contract where they enter (issue 14, finding 11): a payload on
// vw/v1/<site>/<gw>/<device>/<kind> must decode as a vitalwire.v1.Batch whose Source is that site, gateway and device
// and whose kind is that kind (lib/batch-check.ts: a bounded walk over the bytes, no object decoded). Without this a
// gateway, through a bug or a compromise, could put garbage or another bed's identity in front of every reader.
//
// Policy, documented in docs/broker.md: a payload that fails is refused like every refused PUBLISH: MQTT 3.1.1 has no
// negative PUBACK, so the connection is closed without acknowledging it [MQTT-3.3.5-2] (`payload-invalid`,
// VW_ERR_PAYLOAD_INVALID), counted against the gateway (invalid_payloads{gateway}) and logged with the gateway, the
// topic and what is wrong (rate-limited). The gateway keeps the record in its outbox and sends it again after its
// reconnect back-off; a record the broker keeps refusing is set aside by the gateway (docs/gateway.md, its
// dead-letter), so one poisoned record costs reconnects, never the stream behind it.
// An empty retained payload is a deletion of the retained message [MQTT-3.3.1-10], not a Batch, and passes.
import { STREAM_KINDS, parseStreamTopic } from '../lib/topics.js';
import { checkBatch, type BatchProblem, type ExpectedBatch } from '../lib/batch-check.js';
import { Kind } from '../proto/index.js';
import type { PublishPacket } from 'aedes';
import type { BrokerContext, Conn } from './context.js';
import { bump } from './metrics.js';

const KIND_NUMBER: Record<(typeof STREAM_KINDS)[number], number> = {
  obs: Kind.KIND_OBS,
  wave: Kind.KIND_WAVE,
  alarm: Kind.KIND_ALARM,
  status: Kind.KIND_STATUS,
};
/** Gateways named in the invalid_payloads metric; the rest are counted under one label. */
const MAX_GATEWAY_LABELS = 1000;
const ascii = new TextEncoder();

/** What a stream topic requires of its payloads, or null for a topic that is not a stream. */
export function expectedBatch(topic: string): ExpectedBatch | null {
  const t = parseStreamTopic(topic);
  if (!t) return null;
  return {
    site: ascii.encode(t.site),
    gateway: ascii.encode(t.gateway),
    device: ascii.encode(t.device),
    kind: KIND_NUMBER[t.kind],
  };
}

/** A connection's last stream topic and what it requires: a gateway publishes on a handful of topics, so it is reused. */
export interface ExpectedCache {
  topic: string | null;
  batch: ExpectedBatch | null;
}

/**
 * null when a gateway's PUBLISH may be carried on its topic; else what is wrong with its payload, counted against the
 * gateway. Topics that are not streams are not checked here (the ACL decides who may use them).
 */
export function payloadProblem(ctx: BrokerContext, c: Conn, packet: PublishPacket): BatchProblem | null {
  const cache = c.expected;
  if (cache.topic !== packet.topic) {
    cache.topic = packet.topic;
    cache.batch = expectedBatch(packet.topic);
  }
  const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
  if (cache.batch === null || (packet.retain && payload.length === 0)) return null;
  const problem = checkBatch(payload, cache.batch);
  if (problem !== null)
    countInvalid(ctx, c.identity?.kind === 'gateway' ? `${c.identity.site}/${c.identity.gateway}` : c.key);
  return problem;
}

/** One invalid payload against `gateway` ('site/gw') in invalid_payloads, whose labels are bounded. */
export function countInvalid(ctx: BrokerContext, gateway: string): void {
  const label =
    gateway in ctx.counters.invalidPayloads || Object.keys(ctx.counters.invalidPayloads).length < MAX_GATEWAY_LABELS
      ? gateway
      : '(other)';
  bump(ctx.counters.invalidPayloads, label);
}

/** A gateway's Will, checked when its CONNECT arrives (the Will is published later, when nobody can refuse it). */
export function willProblem(topic: string, payload: Uint8Array, retain: boolean): BatchProblem | null {
  const expected = expectedBatch(topic);
  if (expected === null || (retain && payload.length === 0)) return null;
  return checkBatch(payload, expected);
}
