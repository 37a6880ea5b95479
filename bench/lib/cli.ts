// The command line of `npm run bench -- <name> [--quick] [--json]`, kept apart from process
// so it can be tested: argv in, lines out, exit code back.
import { jsonLine, table } from './report.js';
import type { Bench, BenchResult } from './types.js';

export interface CliIo {
  /** stdout: JSON lines and the table. */
  readonly out: (line: string) => void;
  /** stderr: progress, listings after an error, failures. */
  readonly err: (line: string) => void;
}

const USAGE = 'usage: npm run bench -- <name|all> [--quick] [--json]';

export interface ParsedArgs {
  readonly name: string | undefined;
  readonly quick: boolean;
  readonly json: boolean;
}

/** Parses argv (without node and the script); returns an error message for bad arguments. */
export function parseArgs(argv: readonly string[]): ParsedArgs | string {
  let name: string | undefined;
  let quick = false;
  let json = false;
  for (const arg of argv) {
    if (arg === '--quick') quick = true;
    else if (arg === '--json') json = true;
    else if (arg.startsWith('-')) return `unknown option ${arg}`;
    else if (name === undefined) name = arg;
    else return `one bench name expected, got ${name} and ${arg}`;
  }
  return { name, quick, json };
}

/** The listing shown with no name, or after an unknown one. */
export function listing(benches: readonly Bench[]): string[] {
  const width = Math.max(3, ...benches.map((b) => b.name.length));
  return [
    USAGE,
    'benches:',
    ...benches.map((b) => `  ${b.name.padEnd(width)}  ${b.description}`),
    `  ${'all'.padEnd(width)}  every bench above, in this order`,
  ];
}

/** Checks the registry once: names are unique, CLI-safe, and not the reserved "all". */
export function checkRegistry(benches: readonly Bench[]): void {
  const seen = new Set<string>();
  for (const b of benches) {
    if (!/^[a-z0-9][a-z0-9-]*$/.test(b.name) || b.name === 'all') throw new Error(`bad bench name "${b.name}"`);
    if (seen.has(b.name)) throw new Error(`bench "${b.name}" is listed twice`);
    seen.add(b.name);
  }
}

/**
 * Runs the CLI. Exit codes: 0 ok (or listing), 1 a bench failed (the others still run),
 * 2 usage error or unknown bench name.
 */
export async function runCli(argv: readonly string[], benches: readonly Bench[], io: CliIo): Promise<number> {
  checkRegistry(benches);
  const args = parseArgs(argv);
  if (typeof args === 'string') {
    io.err(args);
    for (const l of listing(benches)) io.err(l);
    return 2;
  }
  if (args.name === undefined) {
    for (const l of listing(benches)) io.out(l);
    return 0;
  }
  const selected = args.name === 'all' ? benches : benches.filter((b) => b.name === args.name);
  if (selected.length === 0) {
    io.err(`unknown bench "${args.name}"`);
    for (const l of listing(benches)) io.err(l);
    return 2;
  }

  const all: BenchResult[] = [];
  let failed = false;
  for (const b of selected) {
    const log = (msg: string): void => io.err(`[${b.name}] ${msg}`);
    const t0 = performance.now();
    log(`running${args.quick ? ' (quick)' : ''}`);
    try {
      const results = await b.run({ quick: args.quick, log });
      for (const r of results) io.out(jsonLine(r));
      all.push(...results);
      log(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    } catch (e) {
      failed = true;
      io.err(`[${b.name}] FAILED: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    }
  }
  if (!args.json && all.length > 0) {
    io.out('');
    for (const l of table(all).split('\n')) io.out(l);
  }
  return failed ? 1 : 0;
}
