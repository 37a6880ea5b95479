import { describe, expect, it } from 'vitest';
import { runCli } from './cli.js';
import { figure, jsonLine } from './report.js';
import type { Bench } from './types.js';

const fake = (name: string, value: number, fail = false): Bench => ({
  name,
  description: `fake ${name}`,
  run: async ({ log }) => {
    log('working');
    if (fail) throw new Error('boom');
    return [figure({ bench: name, metric: 'x_per_s', value, unit: 'ops/s', peer: 'other', peerValue: value / 2 })];
  },
});

async function cli(argv: string[], benches: Bench[] = [fake('a', 1000), fake('b', 2000)]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, benches, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('bench CLI', () => {
  it('lists the benches without a name', async () => {
    const r = await cli([]);
    expect(r.code).toBe(0);
    expect(r.out.join('\n')).toMatch(/a +fake a\n.*b +fake b\n.*all/s);
  });
  it('exits 2 with the list on an unknown name or option', async () => {
    for (const argv of [['nope'], ['a', '--fast'], ['a', 'b']]) {
      const r = await cli(argv);
      expect(r.code).toBe(2);
      expect(r.out).toEqual([]);
      expect(r.err.join('\n')).toContain('fake b');
    }
  });
  it('--json prints only JSON lines, keys in contract order; progress goes to stderr', async () => {
    const r = await cli(['all', '--json', '--quick']);
    expect(r.code).toBe(0);
    expect(r.out.map((l) => JSON.parse(l) as Record<string, unknown>)).toEqual([
      { bench: 'a', metric: 'x_per_s', value: 1000, unit: 'ops/s', peer: 'other', peer_value: 500, ratio: 2 },
      { bench: 'b', metric: 'x_per_s', value: 2000, unit: 'ops/s', peer: 'other', peer_value: 1000, ratio: 2 },
    ]);
    expect(Object.keys(JSON.parse(r.out[0] ?? '{}') as object)).toEqual([
      'bench',
      'metric',
      'value',
      'unit',
      'peer',
      'peer_value',
      'ratio',
    ]);
    expect(r.err).toContain('[a] working');
  });
  it('without --json prints the JSON lines, then a table', async () => {
    const r = await cli(['b']);
    expect(r.out[0]).toBe(
      jsonLine(figure({ bench: 'b', metric: 'x_per_s', value: 2000, unit: 'ops/s', peer: 'other', peerValue: 1000 })),
    );
    expect(r.out.slice(1).join('\n')).toMatch(
      /bench +metric +value +unit +peer +peer value +ratio\n-+.*\nb +x_per_s +2,000 +ops\/s +other +1,000 +2$/s,
    );
  });
  it('a failing bench costs its own figures only, and exit code 1', async () => {
    const r = await cli(['all', '--json'], [fake('a', 1, true), fake('b', 3)]);
    expect(r.code).toBe(1);
    expect(r.out).toHaveLength(1);
    expect(r.err.join('\n')).toContain('[a] FAILED: Error: boom');
  });
  it('refuses a registry with a duplicate or reserved name', async () => {
    await expect(cli([], [fake('a', 1), fake('a', 2)])).rejects.toThrow(/twice/);
    await expect(cli([], [fake('all', 1)])).rejects.toThrow(/bad bench name/);
  });
});
