// Statistics and the timing loop shared by every bench. Figures are medians over rounds, so one
// slow round (GC, a noisy neighbour) does not move the reported value.

/** Median of the values (mean of the two middle ones for an even count). Throws on an empty list. */
export function median(values: readonly number[]): number {
  const sorted = sortedCopy(values, 'median');
  const mid = sorted.length >> 1;
  const hi = sorted[mid] as number;
  return sorted.length % 2 === 1 ? hi : ((sorted[mid - 1] as number) + hi) / 2;
}

/**
 * Percentile p (0..100) by the nearest-rank method on a sorted copy: the smallest value such that
 * at least p % of the values are less than or equal to it (rank = ceil(p/100 × n)); p = 0 gives
 * the minimum. Throws on an empty list or p outside 0..100.
 */
export function percentile(values: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile: p must be within 0..100, got ${p}`);
  const sorted = sortedCopy(values, 'percentile');
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

function sortedCopy(values: readonly number[], what: string): number[] {
  if (values.length === 0) throw new RangeError(`${what} of an empty list`);
  return [...values].sort((a, b) => a - b);
}

/** Rounds a figure for display and JSON: integers from 100 up, 3 significant digits below. */
export function roundFigure(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  return Math.abs(x) >= 100 ? Math.round(x) : Number(x.toPrecision(3));
}

/** value / peerValue to 3 significant digits; null when there is no usable peer value. */
export function ratio(value: number, peerValue: number | null): number | null {
  if (peerValue === null || peerValue === 0 || !Number.isFinite(peerValue)) return null;
  return Number((value / peerValue).toPrecision(3));
}

export interface RateOptions {
  /** Measured rounds; the reported figure is their median. */
  readonly rounds: number;
  /** Each round runs whole batches of calls until at least this many milliseconds have passed. */
  readonly minMs: number;
  /** Warm-up time before the first round (JIT, caches, batch calibration); defaults to minMs. */
  readonly warmupMs?: number;
  /** Clock in milliseconds; performance.now by default (tests pass a fake one). */
  readonly now?: () => number;
}

export interface RateResult {
  /** Operations per second, one per round, in the order measured. */
  readonly perRound: readonly number[];
  /** Median of perRound. */
  readonly median: number;
  /** Calls per clock read, chosen during warm-up. */
  readonly batch: number;
  /**
   * Sum of everything fn returned, warm-up included. Callers log it: a result that is used
   * cannot be optimised away, so the loop measures real work.
   */
  readonly checksum: number;
}

/** Presets for BenchOptions.quick: ~3 × 200 ms, or ~9 × 1 s. */
export function ratePreset(quick: boolean): RateOptions {
  return quick ? { rounds: 3, minMs: 200 } : { rounds: 9, minMs: 1000 };
}

/**
 * Measures how many times per second fn runs. fn must return a number derived from its result
 * (a length, a field); the numbers are summed into the checksum to defeat dead-code elimination.
 * The clock is read once per batch, not per call, so sub-microsecond calls are timed fairly.
 */
export function measureRate(fn: () => number, opts: RateOptions): RateResult {
  const now = opts.now ?? (() => performance.now());
  if (!(opts.rounds >= 1) || !(opts.minMs > 0)) throw new RangeError('measureRate: rounds >= 1 and minMs > 0');
  let checksum = 0;
  const runBatch = (n: number): void => {
    for (let i = 0; i < n; i++) checksum += fn();
  };

  // Warm-up doubles the batch until one batch takes ~1 % of a round (at least 1 ms).
  const targetBatchMs = Math.max(1, opts.minMs / 100);
  const warmupMs = opts.warmupMs ?? opts.minMs;
  let batch = 1;
  const warmStart = now();
  for (;;) {
    const t0 = now();
    runBatch(batch);
    const t1 = now();
    if (t1 - warmStart >= warmupMs) break;
    if (t1 - t0 < targetBatchMs && batch < 1 << 30) batch *= 2;
  }

  const perRound: number[] = [];
  for (let r = 0; r < opts.rounds; r++) {
    let ops = 0;
    const t0 = now();
    let elapsed: number;
    do {
      runBatch(batch);
      ops += batch;
      elapsed = now() - t0;
    } while (elapsed < opts.minMs);
    perRound.push((ops * 1000) / elapsed);
  }
  if (!Number.isFinite(checksum)) throw new Error('measureRate: fn returned a non-finite value');
  return { perRound, median: median(perRound), batch, checksum };
}
