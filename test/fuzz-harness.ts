// Fuzzing every framer+decoder: valid wire frames from the encoders, mutated (bit flips, byte
// insertions and deletions, truncation, splices, oversize runs) and interleaved with random
// garbage, fed at random chunk sizes. Checks: nothing throws, memory stays bounded, and a valid
// frame sent after the garbage still decodes (resynchronisation).
import { createPipeline } from '../decoders/pipeline.js';
import { getProtocol } from '../decoders/registry.js';
import { createRng, type Rng } from '../simulators/prng.js';

export interface FuzzTarget {
  protocol: string;
  /** Valid wire bytes of one frame, varied by the rng. */
  valid(rng: Rng): Buffer;
  /** Bytes that always decode to at least one payload; sent after the garbage to prove resync. */
  canary: Buffer;
  /** Bytes that end any partial frame the garbage left (a delimiter), sent before the canary. */
  separator: Buffer;
}

export function mutate(buf: Buffer, rng: Rng): Buffer {
  const b = Buffer.from(buf);
  const r = rng();
  if (r < 0.25) {
    for (let k = 0; k < 1 + rng() * 4; k++) {
      const i = Math.floor(rng() * b.length);
      b[i] = (b[i] as number) ^ (1 << Math.floor(rng() * 8));
    }
    return b;
  }
  if (r < 0.45) return b.subarray(0, Math.floor(rng() * b.length)); // truncation
  if (r < 0.6) {
    const i = Math.floor(rng() * b.length);
    const ins = Buffer.from(Array.from({ length: 1 + Math.floor(rng() * 16) }, () => Math.floor(rng() * 256)));
    return Buffer.concat([b.subarray(0, i), ins, b.subarray(i)]);
  }
  if (r < 0.75) {
    const i = Math.floor(rng() * b.length);
    return Buffer.concat([b.subarray(0, i), b.subarray(i + 1 + Math.floor(rng() * 8))]);
  }
  if (r < 0.85) return Buffer.concat([b.subarray(0, Math.floor(b.length / 2)), b]); // splice
  if (r < 0.92) return Buffer.alloc(64 * 1024 + Math.floor(rng() * 64 * 1024), Math.floor(rng() * 256)); // oversize run
  return Buffer.from(Array.from({ length: Math.floor(rng() * 300) }, () => Math.floor(rng() * 256))); // random
}

export interface FuzzResult {
  protocol: string;
  frames: number;
  bytes: number;
  ms: number;
  decoded: number;
  errors: Record<string, number>;
  canaries: number;
  canariesDecoded: number;
  maxRssMb: number;
  thrown: number;
}

/** Feeds `frames` mutated frames; every 100th is followed by separator + canary. */
export function fuzz(t: FuzzTarget, frames: number, seed: number): FuzzResult {
  const p = getProtocol(t.protocol);
  if (!p) throw new Error(`no protocol ${t.protocol}`);
  const rng = createRng(seed);
  const res: FuzzResult = {
    protocol: t.protocol,
    frames,
    bytes: 0,
    ms: 0,
    decoded: 0,
    errors: {},
    canaries: 0,
    canariesDecoded: 0,
    maxRssMb: 0,
    thrown: 0,
  };
  let decodedSinceCanary = 0;
  const pipe = createPipeline(
    p,
    {
      decoded: (d) => {
        res.decoded++;
        if (d.observations.length + d.waves.length + d.alarms.length > 0) decodedSinceCanary++;
      },
      error: (e) => {
        res.errors[e.code] = (res.errors[e.code] ?? 0) + 1;
      },
    },
    { maxFrameBytes: 32 * 1024 },
  );
  const feed = (buf: Buffer) => {
    res.bytes += buf.length;
    let i = 0;
    while (i < buf.length) {
      const k = 1 + Math.floor(rng() * 512);
      try {
        pipe.push(buf.subarray(i, i + k), 1);
      } catch {
        res.thrown++;
      }
      i += k;
    }
  };
  const t0 = performance.now();
  for (let f = 0; f < frames; f++) {
    const valid = t.valid(rng);
    feed(rng() < 0.5 ? mutate(valid, rng) : valid);
    if (f % 100 === 99) {
      feed(t.separator);
      decodedSinceCanary = 0;
      feed(t.canary);
      res.canaries++;
      if (decodedSinceCanary > 0) res.canariesDecoded++;
      const rss = process.memoryUsage().rss / 1048576;
      if (rss > res.maxRssMb) res.maxRssMb = rss;
    }
  }
  pipe.end();
  res.ms = performance.now() - t0;
  return res;
}
