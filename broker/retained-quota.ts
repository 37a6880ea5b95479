// Retained messages per identity, counted and bounded (issue 14, finding 4: one gateway stored 2,000 retained messages
// of 100 KB, 180 MB of broker memory; a retained message lives until its topic is cleared). vitalwire's gateways retain
// one status per device and one for themselves: a few, small. An identity's retained messages are the topics whose
// last retained PUBLISH it sent; `limits.maxRetainedPerIdentity` bounds their number and
// `limits.maxRetainedBytesPerIdentity` their topic and payload bytes.
//
// A retained PUBLISH past either limit is still delivered to the subscribers of the moment, as a plain message (RETAIN
// 0, as any live delivery), and not stored; the retained message its topic held before, if any, is deleted rather than
// left to tell later subscribers something older than what was just said (a status that is no longer true). Counted
// as retained_not_stored{reason="retained-count-limit"|"retained-bytes-limit"} and logged (rate-limited). An empty
// retained payload deletes, as MQTT says [MQTT-3.3.1-10], and frees its place.
//
// Per broker process, like every per-identity limit: brokers of a cluster share the retained store but each counts what
// its own clients stored, and a restarted broker starts from zero (what was stored before is nobody's).
import type { PublishPacket } from 'aedes';
import { peerEvent, peerOf, who, type BrokerContext, type Conn } from './context.js';
import { bump } from './metrics.js';

export type RetainedVerdict = 'stored' | 'retained-count-limit' | 'retained-bytes-limit';

export class RetainedQuota {
  readonly #maxCount: number;
  readonly #maxBytes: number;
  /** Deletes a topic's stored retained message (the broker's persistence). */
  readonly #clear: (topic: string) => void;
  readonly #byTopic = new Map<string, { owner: string; bytes: number }>();
  readonly #byOwner = new Map<string, { count: number; bytes: number }>();

  constructor(maxCount: number, maxBytes: number, clear: (topic: string) => void) {
    this.#maxCount = maxCount;
    this.#maxBytes = maxBytes;
    this.#clear = clear;
  }

  #drop(topic: string): void {
    const t = this.#byTopic.get(topic);
    if (!t) return;
    this.#byTopic.delete(topic);
    const o = this.#byOwner.get(t.owner);
    if (!o) return;
    o.count--;
    o.bytes -= t.bytes;
    if (o.count === 0) this.#byOwner.delete(t.owner);
  }

  /**
   * A retained PUBLISH by `owner` on `topic` with `payloadBytes` of payload: 'stored' when it fits (and is now
   * accounted to `owner`), else the limit it would pass (and the topic's earlier retained message is deleted).
   */
  admit(owner: string, topic: string, payloadBytes: number): RetainedVerdict {
    if (payloadBytes === 0) {
      this.#drop(topic); // [MQTT-3.3.1-10] a zero-byte retained message deletes
      return 'stored';
    }
    const bytes = topic.length + payloadBytes;
    const prev = this.#byTopic.get(topic);
    const mine = prev !== undefined && prev.owner === owner;
    const o = this.#byOwner.get(owner) ?? { count: 0, bytes: 0 };
    const count = o.count + (mine ? 0 : 1);
    const total = o.bytes - (mine ? prev.bytes : 0) + bytes;
    const verdict: RetainedVerdict =
      count > this.#maxCount ? 'retained-count-limit' : total > this.#maxBytes ? 'retained-bytes-limit' : 'stored';
    if (verdict !== 'stored') {
      if (prev) {
        this.#drop(topic);
        this.#clear(topic);
      }
      return verdict;
    }
    if (prev && !mine) this.#drop(topic);
    o.count = count;
    o.bytes = total;
    this.#byOwner.set(owner, o);
    this.#byTopic.set(topic, { owner, bytes });
    return verdict;
  }

  /** What `owner` holds now. */
  held(owner: string): { count: number; bytes: number } {
    const o = this.#byOwner.get(owner);
    return { count: o?.count ?? 0, bytes: o?.bytes ?? 0 };
  }
}

/**
 * For an accepted retained PUBLISH (hooks/authorize-publish.ts): within the identity's quota it stays retained;
 * past it, it goes on as a plain message, counted and logged.
 */
export function keepRetainedWithinQuota(ctx: BrokerContext, c: Conn, packet: PublishPacket): void {
  const verdict = ctx.retained.admit(c.key, packet.topic, packet.payload.length);
  if (verdict === 'stored') return;
  packet.retain = false;
  bump(ctx.counters.retainedNotStored, verdict);
  peerEvent(
    ctx,
    'warn',
    peerOf(c),
    {
      event: 'retained_not_stored',
      reason: verdict,
      identity: who(c),
      topic: packet.topic,
      held: ctx.retained.held(c.key).count,
    },
    'retained message delivered but not stored: the identity holds its limit',
  );
}
