// proto: encode/decode rate and size of our wire format (protobuf Batch) against the obvious
// alternative, JSON of the identical object, on an obs Batch of 15 numerics and a 500-sample
// ECG chunk. ratio = ours / JSON: above 1 is better for rates, below 1 is better for bytes.
import { Batch, type IBatch } from '../proto/index.js';
import { ecgBatch, observationBatch } from './lib/payloads.js';
import { figure } from './lib/report.js';
import { measureRate, ratePreset } from './lib/stats.js';
import type { Bench, BenchOptions, BenchResult } from './lib/types.js';

const NAME = 'proto';

/** Path of the first value of `expected` that `actual` does not hold, or null when all match. */
export function firstMismatch(expected: unknown, actual: unknown, path = '$'): string | null {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return `${path}.length`;
    for (let i = 0; i < expected.length; i++) {
      const m = firstMismatch(expected[i], actual[i], `${path}[${i}]`);
      if (m !== null) return m;
    }
    return null;
  }
  if (expected !== null && typeof expected === 'object') {
    if (actual === null || typeof actual !== 'object') return path;
    for (const [k, v] of Object.entries(expected)) {
      if (v === undefined) continue;
      const m = firstMismatch(v, (actual as Record<string, unknown>)[k], `${path}.${k}`);
      if (m !== null) return m;
    }
    return null;
  }
  return expected === actual ? null : path;
}

/** Number of observations and samples: what a consumer reads first, and a checksum input. */
function items(b: IBatch): number {
  return (b.observations?.length ?? 0) + (b.waves?.[0]?.samples?.length ?? 0);
}

/** Throws unless both wire formats give back every value of the payload. */
function verifyRoundTrip(label: string, payload: IBatch): void {
  const problem = Batch.verify(payload);
  if (problem !== null) throw new Error(`${label}: not a valid Batch: ${problem}`);
  const viaProto = firstMismatch(payload, Batch.decode(Batch.encode(payload).finish()));
  if (viaProto !== null) throw new Error(`${label}: protobuf round trip differs at ${viaProto}`);
  const viaJson = firstMismatch(payload, JSON.parse(Buffer.from(JSON.stringify(payload)).toString()));
  if (viaJson !== null) throw new Error(`${label}: JSON round trip differs at ${viaJson}`);
}

async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const rate = ratePreset(opts.quick);
  const payloads = [
    ['obs_batch', observationBatch()],
    ['ecg500', ecgBatch(500)],
  ] as const;
  const results: BenchResult[] = [];

  const measure = (label: string, fn: () => number): number => {
    const r = measureRate(fn, rate);
    opts.log(
      `${label}: ${Math.round(r.median)} /s (rounds ${r.perRound.map(Math.round).join(' ')}; ` +
        `batch ${r.batch}; checksum ${r.checksum})`,
    );
    return r.median;
  };

  for (const [label, payload] of payloads) {
    verifyRoundTrip(label, payload);
    const bytes = Batch.encode(payload).finish();
    const json = Buffer.from(JSON.stringify(payload));
    opts.log(`${label}: ${bytes.length} B protobuf, ${json.length} B JSON; round trips verified`);

    const encode = measure(`${label} Batch.encode`, () => Batch.encode(payload).finish().length);
    const stringify = measure(`${label} JSON.stringify`, () => Buffer.from(JSON.stringify(payload)).length);
    const decode = measure(`${label} Batch.decode`, () => items(Batch.decode(bytes)));
    const parse = measure(`${label} JSON.parse`, () => items(JSON.parse(json.toString()) as IBatch));

    const msgs = { bench: NAME, unit: 'msgs/s' } as const;
    results.push(
      figure({ ...msgs, metric: `${label}_encode_per_s`, value: encode, peer: 'JSON.stringify', peerValue: stringify }),
      figure({ ...msgs, metric: `${label}_decode_per_s`, value: decode, peer: 'JSON.parse', peerValue: parse }),
      figure({
        bench: NAME,
        metric: `${label}_bytes`,
        value: bytes.length,
        unit: 'B',
        peer: 'JSON',
        peerValue: json.length,
      }),
    );
  }
  return results;
}

export const bench: Bench = {
  name: NAME,
  description: 'protobuf Batch encode/decode rate and size vs JSON (15-numeric obs batch, 500-sample ECG chunk)',
  run,
};
