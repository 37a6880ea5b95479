import { describe, expect, it } from 'vitest';
import { LiveQueue } from './live-queue.js';
import type { OutRecord } from './types.js';

const rec = (id: number, bytes: number): OutRecord => {
  const payload = Buffer.alloc(bytes);
  return {
    id,
    seq: id,
    device: 'd',
    kind: 'obs',
    payload,
    wire: payload,
    retain: false,
    fromUs: 0,
    backfill: false,
    seg: null,
    index: -1,
  };
};

describe('LiveQueue', () => {
  it('gives records back in commit order, across compactions', () => {
    const q = new LiveQueue();
    const got: number[] = [];
    for (let id = 1; id <= 2000; id++) {
      expect(q.push(rec(id, 10), 1 << 20)).toBe(0);
      if (id % 3 === 0) got.push(q.shift()?.id ?? -1); // the head moves past 256 and the array is compacted
    }
    while (q.has()) got.push(q.shift()?.id ?? -1);
    expect(got.slice().sort((a, b) => a - b)).toEqual(got);
    expect(got).toHaveLength(2000);
    expect(q.shift()).toBeUndefined();
  });

  it('past its byte bound lets the oldest go and says up to which id', () => {
    const q = new LiveQueue();
    expect(q.push(rec(1, 40), 100)).toBe(0);
    expect(q.push(rec(2, 40), 100)).toBe(0);
    expect(q.push(rec(3, 40), 100)).toBe(1); // 120 > 100: record 1 leaves
    expect(q.push(rec(4, 90), 100)).toBe(3); // 170 > 100: 2 and 3 leave
    expect(q.shift()?.id).toBe(4);
    expect(q.has()).toBe(false);
  });

  it('clear() drops everything and the bound starts again', () => {
    const q = new LiveQueue();
    q.push(rec(1, 60), 100);
    q.clear();
    expect(q.has()).toBe(false);
    expect(q.push(rec(2, 60), 100)).toBe(0);
  });
});
