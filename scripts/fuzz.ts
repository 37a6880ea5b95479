// npm run fuzz -- [--frames N] [--seed S] [--protocol ID]: long fuzz of every framer+decoder,
// with figures (frames/s, MB/s, errors by code, resync rate, peak RSS).
import { parseArgs } from 'node:util';
import '../decoders/registry.js';
import { fuzz } from '../test/fuzz-harness.js';
import { ALL_FUZZ_TARGETS as FUZZ_TARGETS } from '../test/fuzz-targets.js';

const { values } = parseArgs({
  options: {
    frames: { type: 'string', default: '100000' },
    seed: { type: 'string', default: '1' },
    protocol: { type: 'string' },
  },
});
const frames = Number(values.frames);
let failed = false;
for (const t of FUZZ_TARGETS) {
  if (values.protocol && t.protocol !== values.protocol) continue;
  const r = fuzz(t, frames, Number(values.seed));
  const ok = r.thrown === 0 && r.canariesDecoded === r.canaries;
  failed ||= !ok;
  console.log(
    JSON.stringify({
      protocol: r.protocol,
      frames: r.frames,
      mb: +(r.bytes / 1048576).toFixed(1),
      seconds: +(r.ms / 1000).toFixed(1),
      frames_per_s: Math.round(r.frames / (r.ms / 1000)),
      mb_per_s: +(r.bytes / 1048576 / (r.ms / 1000)).toFixed(1),
      decoded: r.decoded,
      thrown: r.thrown,
      resync: `${r.canariesDecoded}/${r.canaries}`,
      peak_rss_mb: Math.round(r.maxRssMb),
      errors: r.errors,
      ok,
    }),
  );
}
process.exitCode = failed ? 1 : 0;
