// The contract between bench/run.ts and every bench module (bench/<name>.bench.ts).

/** What run.ts hands each bench. */
export interface BenchOptions {
  /** Short rounds for CI and local checks (~3 × 200 ms); the full run is ~9 × 1 s per figure. */
  readonly quick: boolean;
  /** Progress messages; run.ts sends them to stderr so stdout stays machine-readable. */
  readonly log: (msg: string) => void;
}

/**
 * One figure. Printed as one JSON line with exactly these keys, in this order. A figure with no
 * peer has peer, peer_value and ratio set to null. ratio = value / peer_value.
 */
export interface BenchResult {
  readonly bench: string;
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
  readonly peer: string | null;
  readonly peer_value: number | null;
  readonly ratio: number | null;
}

/** A bench module exports `export const bench: Bench = { ... }` and is listed in bench/index.ts. */
export interface Bench {
  /** CLI name: lower-case letters, digits and dashes; "all" is reserved. */
  readonly name: string;
  /** One line, shown by `npm run bench` with no name. */
  readonly description: string;
  run(opts: BenchOptions): Promise<BenchResult[]>;
}
