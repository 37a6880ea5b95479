// The holes the archive trend lists: runs of buckets where no plotted series has a value.
import { describe, expect, it } from 'vitest';
import { emptyRuns, filledBuckets } from './archive-trend.js';

const pt = (t: number): [number, number, number, number, number, number] => [t, 1, 1, 1, 1, 0];

describe('archive trend holes', () => {
  it('a bucket is filled when any series has a value in it', () => {
    expect(filledBuckets([{ points: [pt(0), null, null, null] }, { points: [null, pt(1), null, null] }], 4)).toEqual([
      true,
      true,
      false,
      false,
    ]);
  });

  it('lists runs of at least two empty buckets, at the edges too; a single empty bucket is not a hole', () => {
    const f = [false, false, true, false, true, true, false, false, false, true, false, false];
    expect(emptyRuns(f)).toEqual([
      [0, 2],
      [6, 9],
      [10, 12],
    ]);
    expect(emptyRuns(f, 1)).toEqual([
      [0, 2],
      [3, 4],
      [6, 9],
      [10, 12],
    ]);
    expect(emptyRuns([true, true])).toEqual([]);
  });
});
