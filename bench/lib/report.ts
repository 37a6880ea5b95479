// Building results and printing them: one JSON line per result, and a table for humans.
import { ratio, roundFigure } from './stats.js';
import type { BenchResult } from './types.js';

export interface FigureInput {
  readonly bench: string;
  readonly metric: string;
  readonly value: number;
  readonly unit: string;
  /** What the same figure was measured on for comparison, in the same run (e.g. "JSON.stringify"). */
  readonly peer?: string;
  readonly peerValue?: number;
}

/** A BenchResult with rounded figures and ratio = value / peer value (both unrounded). */
export function figure(input: FigureInput): BenchResult {
  if (!Number.isFinite(input.value)) throw new RangeError(`${input.bench}/${input.metric}: value is ${input.value}`);
  const peerValue = input.peerValue ?? null;
  return {
    bench: input.bench,
    metric: input.metric,
    value: roundFigure(input.value),
    unit: input.unit,
    peer: input.peer ?? null,
    peer_value: peerValue === null ? null : roundFigure(peerValue),
    ratio: ratio(input.value, peerValue),
  };
}

/** The JSON line of a result, keys in contract order whatever the object's own order. */
export function jsonLine(r: BenchResult): string {
  const { bench, metric, value, unit, peer, peer_value, ratio: q } = r;
  return JSON.stringify({ bench, metric, value, unit, peer, peer_value, ratio: q });
}

const HEADER = ['bench', 'metric', 'value', 'unit', 'peer', 'peer value', 'ratio'] as const;
const RIGHT_ALIGNED = new Set([2, 5, 6]);
const grouped = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 21 });

function num(x: number | null): string {
  return x === null ? '-' : grouped.format(x);
}

/** A fixed-width table of the results, numbers right-aligned with thousands separators. */
export function table(results: readonly BenchResult[]): string {
  const rows: string[][] = [
    [...HEADER],
    ...results.map((r) => [r.bench, r.metric, num(r.value), r.unit, r.peer ?? '-', num(r.peer_value), num(r.ratio)]),
  ];
  const widths = HEADER.map((_, c) => Math.max(...rows.map((row) => (row[c] ?? '').length)));
  const line = (row: readonly string[]): string =>
    row
      .map((cell, c) => (RIGHT_ALIGNED.has(c) ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const [head, ...body] = rows;
  return [line(head ?? []), rule, ...body.map(line)].join('\n');
}
