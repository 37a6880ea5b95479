// `vitalwire export` and `vitalwire bind` end to end on an embedded archive written the way a central writes it:
// the binding applies by time, demo/test/simulated data stays out of real exports unless asked for, every format
// carries the same data, the research export holds no identifier, and an export beside a running central sees
// everything already acknowledged.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Observation, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.js';
import { createHl7Decoder } from '../../decoders/hl7/decoder.js';
import { silentLogger } from '../../lib/log.js';
import { Flag } from '../../proto/index.js';
import { openArchive, type Archive } from '../archive.js';
import { listBindings } from '../bindings.js';
import { openFileAudit } from '../audit.js';
import { openDuckDbStore } from '../store/duckdb.js';
import { publish, vitalsBatch, type Published } from '../test-kit.js';
import { validateR4 } from './fhir-validate.js';
import { formatUs, parseTimeUs } from './names.js';

const H = 3_600_000_000;
const T = Date.UTC(2026, 0, 15, 0, 0, 0) * 1000;
const real = { site: 'bv-soc-son', gateway: 'gw1', device: 'mon1' };
const demo = { site: 'bv-soc-son', gateway: 'gw1', device: 'demo1' };
const sim = { site: 'bv-soc-son', gateway: 'gw1', device: 'sim1' };
let dir = '';

const put = (a: Archive, p: Published) =>
  new Promise<void>((resolve, reject) => a.append(p.topic, p.payload, (err) => (err ? reject(err) : resolve())));

async function cli(...args: string[]): Promise<number> {
  return main(args);
}

async function exportText(...args: string[]): Promise<string> {
  const out = join(dir, `out-${Math.random().toString(36).slice(2)}`);
  expect(await cli('export', '--data-dir', dir, '--out', out, '--by', 'tester', ...args)).toBe(0);
  return readFile(out, 'utf8');
}

describe('vitalwire export and bind', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vw-export-'));
    const store = await openDuckDbStore({ dir, logger: silentLogger() });
    const a = await openArchive({ dataDir: dir, store, logger: silentLogger() });
    // 2 h of a real monitor every 10 min (a BP every hour), a device in demo mode, a simulator; a gap at 1 h.
    for (let i = 0; i < 12; i++) {
      const t = T + i * 600e6;
      await put(
        a,
        vitalsBatch(real, i + 1, t, {
          hr: 70 + i,
          spo2: 95,
          ...(i % 6 === 0 ? { sys: 120 + i, dia: 80, mean: 93 } : {}),
        }),
      );
      await put(a, vitalsBatch(demo, i + 1, t, { hr: 200 }, Flag.FLAG_DEMO));
      await put(a, vitalsBatch(sim, i + 1, t, { hr: 201 }, Flag.FLAG_SIMULATED));
    }
    await put(
      a,
      publish(real, 'status', 1, {
        gaps: [{ kind: 1, fromSeq: 7, toSeq: 7, fromTimeUs: T + H, toTimeUs: T + H + 60e6, reason: 1 }],
      }),
    );
    // The simulator says so in its status (DeviceStatus.flags), then its gateway declares a gap of it: a Gap has no flags
    // of its own, and is the simulator's all the same.
    await put(
      a,
      publish(sim, 'status', 1, { statuses: [{ time: { gatewayTimeUs: T }, state: 2, flags: Flag.FLAG_SIMULATED }] }),
    );
    await put(
      a,
      publish(sim, 'status', 2, {
        gaps: [{ kind: 1, fromSeq: 3, toSeq: 3, fromTimeUs: T + 2 * H - 60e6, toTimeUs: T + 2 * H, reason: 1 }],
      }),
    );
    // An SpO2 low alarm of the monitor while it serves P-77 (40 min), and one of the simulator.
    const spo2Low = (t: number, flags: number) => ({
      time: { gatewayTimeUs: t, deviceTimeUs: t },
      id: 'AL-1',
      mdc: 196652,
      refid: 'MDC_EVT_LO',
      text: 'SpO2 LOW',
      priority: 4,
      kind: 1,
      state: 2,
      phase: 1,
      inactivation: 1,
      sourceMdc: 150456,
      sourceRefid: 'MDC_PULS_OXIM_SAT_O2',
      sourceValue: 84,
      sourceUnit: '%',
      limits: '90-100',
      limitLow: 90,
      limitHigh: 100,
      sourceContainment: '1.3.1.150456.2',
      flags,
    });
    await put(a, publish(real, 'alarm', 1, { alarms: [spo2Low(T + 40 * 60e6, 0)] }));
    await put(a, publish(sim, 'alarm', 1, { alarms: [spo2Low(T + 40 * 60e6, Flag.FLAG_SIMULATED)] }));
    await a.flush();
    await a.close();
    // The monitor serves patient P-77 in ICU-1 from 30 min to 90 min; the demo device is bound too (a mistake to survive).
    expect(
      await cli(
        'bind',
        '--data-dir',
        dir,
        '--device',
        'bv-soc-son/gw1/mon1',
        '--bed',
        'ICU-1',
        '--patient',
        'P-77',
        '--encounter',
        'E-5',
        '--from',
        formatUs(T + 0.5 * H),
        '--to',
        formatUs(T + 1.5 * H),
        '--by',
        'nurse.lan',
      ),
    ).toBe(0);
    expect(
      await cli(
        'bind',
        '--data-dir',
        dir,
        '--device',
        'bv-soc-son/gw1/demo1',
        '--bed',
        'ICU-1',
        '--patient',
        'P-77',
        '--from',
        formatUs(T),
        '--by',
        'nurse.lan',
      ),
    ).toBe(0);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('binds through the command and audits who did it', async () => {
    const audit = openFileAudit({ dir: join(dir, 'audit') });
    const bs = await listBindings(audit);
    expect(bs.map((b) => [b.device, b.bed, b.patient, b.fromUs, b.toUs])).toEqual(
      [
        ['demo1', 'ICU-1', 'P-77', T, null],
        ['mon1', 'ICU-1', 'P-77', T + 0.5 * H, T + 1.5 * H],
      ].sort((x, y) => (x[3] as number) - (y[3] as number)),
    );
    expect((await audit.list(['binding.set'])).every((e) => e.actor === 'nurse.lan')).toBe(true);
  });

  it('FHIR: every resource validates, bound values carry the patient, unbound are tagged, no demo or simulated data', async () => {
    const lines = (await exportText('--format', 'fhir'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Resource);
    for (const r of lines) expect(validateR4(r)).toEqual([]);
    const obs = lines.filter((r): r is Observation => r.resourceType === 'Observation');
    expect(lines.filter((r) => r.resourceType === 'Device')).toHaveLength(1);
    // 12 Batches: 12 HR + 12 SpO2 + 2 BP panels, one gap and the monitor's alarm (the simulator's stays out).
    expect(obs).toHaveLength(28);
    expect(JSON.stringify(obs)).not.toMatch(/"value":20[01]\b/);
    const hr = obs.filter((o) => o.code.coding?.some((c) => c.code === '8867-4'));
    const boundHr = hr.filter((o) => o.subject);
    expect(boundHr.map((o) => o.valueQuantity?.value)).toEqual([73, 74, 75, 76, 77, 78]); // 30 min .. 80 min
    expect(
      boundHr.every((o) => o.subject?.identifier?.value === 'P-77' && o.encounter?.identifier?.value === 'E-5'),
    ).toBe(true);
    expect(hr.filter((o) => !o.subject).every((o) => o.meta?.tag?.[0]?.code === 'unbound')).toBe(true);
    const gap = obs.find((o) => o.dataAbsentReason && o.effectivePeriod);
    expect(gap?.effectivePeriod).toEqual({ start: formatUs(T + H), end: formatUs(T + H + 60e6) });
  });

  it('--include-demo adds the demo and simulated values, marked by their flags', async () => {
    const lines = (await exportText('--format', 'fhir', '--include-demo'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Resource);
    const obs = lines.filter((r): r is Observation => r.resourceType === 'Observation');
    const quarantined = obs.filter((o) => o.valueQuantity?.value === 200 || o.valueQuantity?.value === 201);
    expect(quarantined).toHaveLength(24);
    for (const o of quarantined)
      expect(o.extension?.map((e) => e.valueCode)).toEqual(
        expect.arrayContaining([o.valueQuantity?.value === 200 ? 'FLAG_DEMO' : 'FLAG_SIMULATED']),
      );
    // The simulator's gap comes too, marked as the simulator's.
    const gaps = obs.filter((o) => o.dataAbsentReason && o.effectivePeriod);
    expect(
      gaps.map((g) => [g.effectivePeriod?.start, g.extension?.some((e) => e.valueCode === 'FLAG_SIMULATED')]),
    ).toEqual([
      [formatUs(T + H), false],
      [formatUs(T + 2 * H - 60e6), true],
    ]);
    for (const r of lines) expect(validateR4(r)).toEqual([]);
  });

  it('CSV and Parquet carry the same rows, flags by name and the gap interval; no demo data', async () => {
    const csv = (await exportText('--format', 'csv', '--bed', 'ICU-1')).trim().split('\r\n');
    const header = csv[0]!.split(',');
    const rows = csv.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [header[i], v])));
    // ICU-1 from 30 to 90 min: the monitor's readings at 30..80 min (6 x HR, SpO2; one BP set at 60 min) and the gap.
    expect(rows.filter((r) => r['record'] === 'observation')).toHaveLength(15);
    expect(rows.every((r) => r['patient'] === 'P-77' && r['bed'] === 'ICU-1' && r['device'] === 'mon1')).toBe(true);
    expect(rows.find((r) => r['record'] === 'gap')).toMatchObject({
      gap_reason: 'GAP_REASON_DEVICE_DISCONNECTED',
      gap_from_us: String(T + H),
      gap_to_us: String(T + H + 60e6),
    });
    const out = join(dir, 'x.parquet');
    expect(await cli('export', '--data-dir', dir, '--format', 'parquet', '--bed', 'ICU-1', '--out', out)).toBe(0);
    expect((await stat(out)).mode & 0o777).toBe(0o600);
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const r = (
      await c.runAndReadAll(
        `SELECT record, count(*)::INTEGER AS n, max(patient) AS p FROM read_parquet('${out}') GROUP BY record ORDER BY record`,
      )
    ).getRowObjectsJS();
    expect(r).toEqual([
      { record: 'gap', n: 1, p: 'P-77' },
      { record: 'observation', n: 15, p: 'P-77' },
    ]);
    c.closeSync();
    db.closeSync();
  });

  it('PCD-04: one ORU^R40 per alarm, read back by the decoder with the bound bed; the simulator only on request', async () => {
    const msgs = (await exportText('--format', 'pcd04')).split('\n').filter((m) => m.startsWith('MSH'));
    expect(msgs).toHaveLength(1);
    expect(msgs[0]).toContain('PID|||P-77^^^');
    const d = createHl7Decoder().decode(Buffer.from(msgs[0]!), { gatewayTimeUs: 1 });
    if (!d.ok) throw new Error(JSON.stringify(d.error));
    expect(d.value.bed).toBe('ICU-1');
    expect(d.value.alarms).toHaveLength(1);
    expect(d.value.alarms[0]).toMatchObject({
      mdc: 196652,
      refid: 'MDC_EVT_LO',
      text: 'SpO2 LOW',
      priority: 4,
      kind: 1,
      phase: 1,
      state: 2,
      inactivation: 1,
      sourceMdc: 150456,
      sourceValue: 84,
      sourceUnit: '%',
      limitLow: 90,
      limitHigh: 100,
    });
    const all = (await exportText('--format', 'pcd04', '--include-demo'))
      .split('\n')
      .filter((m) => m.startsWith('MSH'));
    expect(all).toHaveLength(2);
    const sim = all.map((m) => createHl7Decoder().decode(Buffer.from(m), { gatewayTimeUs: 1 }));
    expect(
      sim.filter((r) => r.ok && ((r.value.alarms[0]?.flags ?? 0) & Flag.FLAG_DEMO) === Flag.FLAG_DEMO),
    ).toHaveLength(1);
  });

  it('PCD-01: the decoder reads the export back, one message per Batch, with the bound bed', async () => {
    const text = await exportText('--format', 'pcd01', '--device', 'bv-soc-son/gw1/mon1');
    const msgs = text.split('\n').filter((m) => m.startsWith('MSH'));
    expect(msgs).toHaveLength(12);
    const decoded = msgs.map((m) => {
      const d = createHl7Decoder().decode(Buffer.from(m), { gatewayTimeUs: 1 });
      if (!d.ok) throw new Error(JSON.stringify(d.error));
      return d.value;
    });
    expect(decoded.map((d) => d.observations.find((o) => o.mdc === 147842)?.number)).toEqual([
      70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81,
    ]);
    expect(decoded.map((d) => d.bed ?? null)).toEqual([
      null,
      null,
      null,
      'ICU-1',
      'ICU-1',
      'ICU-1',
      'ICU-1',
      'ICU-1',
      'ICU-1',
      null,
      null,
      null,
    ]);
  });

  it('--deidentify: no identifier, whole-day shifted times, stable pseudonyms, no unbound or demo data, a 0600 secret', async () => {
    const a = await exportText('--format', 'fhir', '--deidentify');
    const b = await exportText('--format', 'fhir', '--deidentify');
    expect(a).toBe(b);
    for (const id of ['P-77', 'E-5', 'mon1', 'demo1', 'ICU-1', 'gw1']) expect(a).not.toContain(id);
    const obs = a
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Resource)
      .filter((r): r is Observation => r.resourceType === 'Observation');
    for (const o of obs) expect(validateR4(o)).toEqual([]);
    expect(obs.every((o) => o.subject?.identifier?.system === 'urn:vitalwire:pseudonym')).toBe(true);
    const hr = obs.filter((o) => o.code.coding?.some((c) => c.code === '8867-4'));
    expect(hr.map((o) => o.valueQuantity?.value)).toEqual([73, 74, 75, 76, 77, 78]);
    const shift = parseTimeUs(hr[0]!.effectiveDateTime!) - (T + 0.5 * H);
    expect(Math.abs(shift % 86_400_000_000)).toBe(0);
    expect(shift).not.toBe(0);
    expect(Math.abs(shift)).toBeLessThanOrEqual(182 * 86_400_000_000);
    expect((await stat(join(dir, 'deidentify.key'))).mode & 0o777).toBe(0o600);
    // The HL7 v2 formats too: the monitor's alarm with a pseudonym in PID-3, no identifier, no free text.
    const hl7 = await exportText('--format', 'pcd04', '--deidentify');
    const msgs = hl7.split('\n').filter((m) => m.startsWith('MSH'));
    expect(msgs).toHaveLength(1);
    for (const id of ['P-77', 'E-5', 'mon1', 'ICU-1', 'gw1', 'SpO2 LOW']) expect(hl7).not.toContain(id);
    const back = createHl7Decoder().decode(Buffer.from(msgs[0]!), { gatewayTimeUs: 1 });
    if (!back.ok) throw new Error(JSON.stringify(back.error));
    expect(back.value.alarms[0]).toMatchObject({ mdc: 196652, sourceValue: 84 });
    const audit = await openFileAudit({ dir: join(dir, 'audit') }).list(['export']);
    expect(audit.at(-1)).toMatchObject({
      actor: 'tester',
      subject: 'pcd04',
      after: { deidentified: true, includeDemo: false },
    });
  });

  it('beside a running central, exports what is acknowledged but not yet checkpointed', async () => {
    const store = await openDuckDbStore({ dir, logger: silentLogger() });
    const a = await openArchive({ dataDir: dir, store, logger: silentLogger() });
    try {
      await put(a, vitalsBatch(real, 13, T + 2 * H, { hr: 99 }));
      const csv = await exportText('--format', 'csv', '--device', 'bv-soc-son/gw1/mon1', '--from', formatUs(T + 2 * H));
      expect(
        csv
          .trim()
          .split('\r\n')
          .slice(1)
          .map((l) => l.split(',')[14]),
      ).toEqual(['99']);
    } finally {
      await a.close();
    }
  });
});
