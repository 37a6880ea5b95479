// How big a publish is on the wire, as the broker measures it, and what that leaves a Batch: one definition for the
// config check, the batcher's limit, the outbox (which sets aside what can never be sent) and the uplink.
// MQTT 3.1.1 2.2 and 3.3: a PUBLISH is 1 byte of type and flags, the Remaining Length (1-4 bytes), then the topic
// (2-byte length + bytes) and, at QoS 1, a 2-byte packet id, then the payload. The broker (broker/packet-guard.ts)
// refuses a packet whose total exceeds its limits.maxPacketBytes by closing the connection.
import { TOPIC_ROOT } from '../lib/topics.js';
import { PUBLISH_TAIL_MAX } from './outbox/records.js';

/** Bytes of an MQTT Remaining Length field (MQTT 3.1.1 2.2.3). */
function remainingLengthBytes(n: number): number {
  return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4;
}

/** Total bytes of a QoS 1 PUBLISH of `payloadBytes` on a topic of `topicBytes`. */
export function publishPacketBytes(topicBytes: number, payloadBytes: number): number {
  const rl = 2 + topicBytes + 2 + payloadBytes;
  return 1 + remainingLengthBytes(rl) + rl;
}

/** The packet of a stored Batch of `payloadBytes`, with the most the uplink appends to it (backfill, publish time). */
export function storedPublishBytes(topicBytes: number, payloadBytes: number): number {
  return publishPacketBytes(topicBytes, payloadBytes + PUBLISH_TAIL_MAX);
}

/** The longest stream topic: vw/v1/<site>/<gateway>/<device>/status with 64-character segments (lib/topics.ts). */
export const MAX_TOPIC_BYTES = TOPIC_ROOT.length + 1 + 64 + 1 + 64 + 1 + 64 + 1 + 'status'.length;

/**
 * Device-supplied text in a Batch's Source (model, hardware id, the bed a device claims) is clipped to this many
 * characters, so the header every Batch carries stays bounded (a 300 KB model name would make every Batch unsendable).
 */
export const SOURCE_TEXT_MAX = 128;

/**
 * Room for the fields of a Batch besides its items: Source (ids of at most 64 ASCII characters, bed and model from the
 * config, device text clipped to SOURCE_TEXT_MAX characters of up to 3 UTF-8 bytes each), kind and seq.
 */
export const BATCH_HEADER_MAX_BYTES = 2048;

/** The most a Batch's items may take so that any Batch of the gateway fits a publish of `maxPacketBytes`. */
export function maxItemsBytes(maxPacketBytes: number): number {
  const mqtt = 1 + 4 /* the longest Remaining Length */ + 2 + MAX_TOPIC_BYTES + 2 + PUBLISH_TAIL_MAX;
  return maxPacketBytes - mqtt - BATCH_HEADER_MAX_BYTES;
}

export function clipSourceText(s: string): string {
  return s.length > SOURCE_TEXT_MAX ? s.slice(0, SOURCE_TEXT_MAX) : s;
}
