// A short fuzz of every framer+decoder in `npm test`; `npm run fuzz -- --frames N` runs long.
import { describe, expect, it } from 'vitest';
import '../decoders/registry.js';
import { fuzz } from './fuzz-harness.js';
import { ALL_FUZZ_TARGETS as FUZZ_TARGETS } from './fuzz-targets.js';

describe('fuzz: mutated and random input through every framer and decoder', () => {
  for (const t of FUZZ_TARGETS) {
    it(`${t.protocol}: never throws, stays bounded, and resynchronises`, () => {
      const r = fuzz(t, 3000, 42);
      expect(r.thrown).toBe(0);
      expect(r.decoded).toBeGreaterThan(0);
      expect(Object.keys(r.errors).length).toBeGreaterThan(0); // the mutations were seen as errors
      // A valid frame after any garbage decodes, apart from the rare case where the garbage
      // itself ends in a partial frame that swallows the separator.
      expect(r.canariesDecoded).toBeGreaterThanOrEqual(Math.floor(r.canaries * 0.9));
      expect(r.maxRssMb).toBeLessThan(1024);
    });
  }
});
