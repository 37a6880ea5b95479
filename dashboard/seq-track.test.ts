import { describe, expect, it } from 'vitest';
import { SeqTrack } from './seq-track.js';

describe('sequence bookkeeping of a stream', () => {
  it('opens a hole on a jump, and history fills it: no gap is left once the backlog has come', () => {
    const t = new SeqTrack();
    for (let s = 1; s <= 10; s++) expect(t.accept(s, false)).toBe('new');
    // The gateway reconnects after an outage: live data first (51...), the backlog (11-50) after it.
    expect(t.accept(51, false)).toBe('new');
    expect(t.openHoles).toBe(1);
    for (let s = 11; s <= 30; s++) expect(t.accept(s, true)).toBe('history');
    expect(t.openHoles).toBe(1);
    expect(t.accept(52, false)).toBe('new');
    for (let s = 31; s <= 50; s++) expect(t.accept(s, true)).toBe('history');
    expect(t.openHoles).toBe(0);
    expect(t.accept(30, true)).toBe('duplicate');
    expect(t.accept(52, false)).toBe('duplicate');
  });

  it('never takes a backfilled seq 1 for a restart; a live seq 1 after more is one', () => {
    const t = new SeqTrack();
    expect(t.accept(40, false)).toBe('new');
    expect(t.accept(1, true)).toBe('history'); // the first Batch the device ever sent, replayed
    expect(t.openHoles).toBe(1); // 2..39 are still to come
    expect(t.accept(41, false)).toBe('new');
    expect(t.accept(1, false)).toBe('restart');
    expect(t.high).toBe(1);
    expect(t.openHoles).toBe(0);
  });

  it('does not count a declared Gap as a hole, and counts holes given up beyond its bound', () => {
    const t = new SeqTrack();
    t.accept(1, false);
    t.accept(10, false);
    t.declare(2, 9);
    expect(t.openHoles).toBe(0);
    for (let i = 0; i < 70; i++) t.accept(12 + 2 * i, false); // 70 one-seq holes
    expect(t.openHoles).toBe(64);
    expect(t.lost).toBe(6);
  });

  it('does not count the holes of a thinned history', () => {
    const t = new SeqTrack();
    for (const s of [10, 20, 30]) t.accept(s, false);
    t.thinnedUntil = 30;
    expect(t.openHoles).toBe(0);
    t.accept(32, false);
    expect(t.openHoles).toBe(1);
  });
});
