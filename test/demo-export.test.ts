// A demo run is a clinical record that can be exported: the compiled `vitalwire demo --data-dir DIR` archives into
// DIR, stops on SIGINT, and `vitalwire export --data-dir DIR` then gives its data in every format, only with
// --include-demo (every demo device is a simulator) and marked as simulated. FHIR output is validated against R4.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Resource } from '@medplum/fhirtypes';
import { afterAll, describe, expect, it } from 'vitest';
import { validateR4 } from '../archive/export/fhir-validate.js';
import { createHl7Decoder } from '../decoders/hl7/decoder.js';
import { Flag } from '../proto/index.js';

const BIN = join(import.meta.dirname, '..', 'bin', 'vitalwire');
const dir = mkdtempSync(join(tmpdir(), 'vw-demo-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const journalBytes = (): number => {
  try {
    return readdirSync(join(dir, 'journal')).reduce((n, f) => n + statSync(join(dir, 'journal', f)).size, 0);
  } catch {
    return 0;
  }
};

function exportOf(format: string, extra: string[] = []): { stdout: Buffer; stderr: string; status: number | null } {
  const r = spawnSync(process.execPath, [BIN, 'export', '--data-dir', dir, '--format', format, ...extra], {
    timeout: 60_000,
  });
  return { stdout: r.stdout, stderr: r.stderr.toString(), status: r.status };
}

describe('vitalwire demo archives into --data-dir, and the run exports', () => {
  it('demo, stop, export in every format: all of it simulated, none of it without --include-demo', async () => {
    const child = spawn(
      process.execPath,
      [BIN, 'demo', '--http-port', '0', '--mqtt-port', '0', '--beds', '1', '--data-dir', dir],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, VW_LOG_LEVEL: 'warn' },
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + 30_000;
    // Numerics come every second, waves several times a second: 30 KB of journal is several seconds of each.
    while (!(out.includes('vitalwire demo is running') && journalBytes() > 30_000)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`demo did not archive: ${out}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(out).toContain(`Archive:    ${dir}`);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);

    // FHIR R4 NDJSON: Devices first, then Observations carrying the simulator's marks.
    const fhir = exportOf('fhir', ['--include-demo']);
    expect(fhir.status, fhir.stderr).toBe(0);
    const resources = fhir.stdout
      .toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Resource);
    const obs = resources.filter((r) => r.resourceType === 'Observation');
    expect(resources.some((r) => r.resourceType === 'Device')).toBe(true);
    expect(obs.length).toBeGreaterThan(10);
    const flagsOf = (r: Resource): string[] =>
      ((r as { extension?: { url: string; valueCode?: string }[] }).extension ?? [])
        .filter((e) => e.url.endsWith('/quality-flags'))
        .map((e) => e.valueCode ?? '');
    for (const o of obs) expect(flagsOf(o)).toContain('FLAG_SIMULATED');
    // MDC heart rate (147842) and SpO2 (150456) from the simulated monitor, each validated against R4.
    const codes = new Set(
      obs.flatMap((o) => (o as { code: { coding: { code: string }[] } }).code.coding.map((c) => c.code)),
    );
    expect(codes).toContain('147842');
    expect(codes).toContain('150456');
    const seen = new Set<string>();
    for (const r of resources) {
      const k = `${r.resourceType}/${JSON.stringify((r as { code?: unknown }).code ?? '')}`;
      if (seen.has(k)) continue;
      seen.add(k);
      expect(validateR4(r), k).toEqual([]);
    }

    // PCD-01: every message reads back through vitalwire's HL7 decoder, DEMO-flagged.
    const pcd = exportOf('pcd01', ['--include-demo']);
    expect(pcd.status, pcd.stderr).toBe(0);
    const messages = pcd.stdout
      .toString()
      .split('\n')
      .filter((m) => m.startsWith('MSH|'));
    expect(messages.length).toBeGreaterThan(5);
    for (const m of messages) {
      const d = createHl7Decoder().decode(Buffer.from(m, 'utf8'), { gatewayTimeUs: 1 });
      if (!d.ok) throw new Error(JSON.stringify(d.error));
      for (const o of d.value.observations) expect((o.flags ?? 0) & Flag.FLAG_DEMO).toBe(Flag.FLAG_DEMO);
    }

    // CSV: the header, then only quarantined (simulated) rows.
    const csv = exportOf('csv', ['--include-demo']);
    expect(csv.status, csv.stderr).toBe(0);
    const [header, ...lines] = csv.stdout
      .toString()
      .trim()
      .split('\r\n')
      .flatMap((l) => l.split('\n'))
      .filter(Boolean);
    const cols = (header ?? '').split(',');
    const q = cols.indexOf('quarantined');
    const flags = cols.indexOf('flags');
    expect(lines.length).toBeGreaterThan(10);
    for (const l of lines) {
      const f = l.split(',');
      expect(f[q]).toBe('true');
      expect(f[flags]).toContain('FLAG_SIMULATED');
    }

    // Parquet: a file DuckDB reads, the same rows.
    const pq = join(dir, 'export.parquet');
    const parquet = exportOf('parquet', ['--include-demo', '--out', pq]);
    expect(parquet.status, parquet.stderr).toBe(0);
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const r = await conn.runAndReadAll(
      `SELECT count(*)::INTEGER AS n, bool_and(quarantined) AS q FROM read_parquet('${pq}')`,
    );
    expect(r.getRowObjectsJS()).toEqual([{ n: lines.length, q: true }]);
    conn.closeSync();
    db.closeSync();

    // Without --include-demo: nothing, in every format (the demo's devices are all simulators).
    for (const format of ['fhir', 'pcd01', 'pcd04', 'csv']) {
      const none = exportOf(format);
      expect(none.status, none.stderr).toBe(0);
      expect(none.stderr).toMatch(new RegExp(`export: 0 ${format} records`));
      const body = none.stdout.toString().trim();
      expect(format === 'csv' ? body.split('\n').length : body.length).toBe(format === 'csv' ? 1 : 0);
    }
    const nonePq = exportOf('parquet', ['--out', join(dir, 'none.parquet')]);
    expect(nonePq.stderr).toMatch(/export: 0 parquet records/);
  }, 120_000);
});
