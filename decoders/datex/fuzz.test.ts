// The shared fuzz harness (test/fuzz-harness.ts) on the datex protocol, with checks specific to
// it: corrupted frames are caught by the checksum.
import { describe, expect, it } from 'vitest';
import '../registry.js';
import { fuzz } from '../../test/fuzz-harness.js';
import { ALL_FUZZ_TARGETS } from '../../test/fuzz-targets.js';

describe('fuzz: datex', () => {
  it('catches corruption with the checksum and resynchronises on every canary', () => {
    const target = ALL_FUZZ_TARGETS.find((t) => t.protocol === 'datex');
    if (!target) throw new Error('no datex fuzz target');
    const r = fuzz(target, 3000, 42);
    expect(r.thrown).toBe(0);
    expect(r.errors['VW_ERR_DATEX_CHECKSUM']).toBeGreaterThan(0);
    expect(r.canariesDecoded).toBe(r.canaries);
  });
});
