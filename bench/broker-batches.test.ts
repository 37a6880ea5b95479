// The broker bench's archive variant publishes real Batches: each must pass the broker's own payload check against
// the topic it is published on (kind included), or the broker refuses it and the variant measures refusals.
import { describe, expect, it } from 'vitest';
import { willProblem } from '../broker/payload-check.js';
import { BATCH_SEQ_AT, batchLoad } from './broker.bench.js';

/** The seq as broker-load.mjs writes it: a five-byte varint at BATCH_SEQ_AT. */
function withSeq(b: Buffer, seq: number): Buffer {
  const p = Buffer.from(b);
  for (let k = 0, v = seq; k < 5; k++, v = Math.floor(v / 128)) p[BATCH_SEQ_AT + k] = (v % 128) | (k < 4 ? 0x80 : 0);
  return p;
}

describe("broker bench: the archive variant's Batches", () => {
  it('are Batches of the topic each publisher sends them on, numerics and waves both', () => {
    const kinds = new Set<string>();
    for (let i = 0; i < 8; i++) {
      const p = {
        clientId: `c${i}`,
        topic: `vw/v1/site-a/gw${i}/bed01/wave`,
        cert: '',
        key: '',
        site: 'site-a',
        gw: `gw${i}`,
      };
      const { topic, payloads } = batchLoad(p, i);
      expect(topic.startsWith(`vw/v1/site-a/gw${i}/bed01/`)).toBe(true);
      kinds.add(topic.split('/').at(-1)!);
      for (const b of payloads) expect(willProblem(topic, withSeq(b, 1 + i), false)).toBeNull();
    }
    expect([...kinds].sort()).toEqual(['obs', 'wave']);
  });
});
