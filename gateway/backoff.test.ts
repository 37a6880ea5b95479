import { describe, expect, it } from 'vitest';
import { createBackoff } from './backoff.js';

describe('backoff', () => {
  it('grows exponentially up to the cap and resets', () => {
    const top = createBackoff(100, 1000, () => 1);
    expect([top.next(), top.next(), top.next(), top.next(), top.next(), top.next()]).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
    top.reset();
    expect(top.next()).toBe(100);
  });

  it('jitters between half the minimum and the current cap', () => {
    const low = createBackoff(100, 1000, () => 0);
    expect([low.next(), low.next(), low.next()]).toEqual([50, 50, 50]);
  });
});
