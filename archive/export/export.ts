// One export run: scope -> rows page by page (6 h of data at a time, so a month does not sit in memory) -> bindings
// applied -> optionally de-identified -> the format -> the output stream. Quarantined data (demo, test, simulated)
// comes only with includeDemo, never in a de-identified export. Every export is an audit entry (who, what, counts).
import { once } from 'node:events';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Device, Observation } from '@medplum/fhirtypes';
import type { Archive } from '../archive.js';
import { BindingIndex, listBindings } from '../bindings.js';
import { devicesSeen, selectRows, type DeviceInfo, type Scope } from '../query.js';
import { quoteLiteral } from '../store/duckdb.js';
import { Deidentifier } from './deidentify.js';
import {
  alarmObservation,
  deviceResource,
  gapObservation,
  observationsOf,
  transactionBundle,
  waveObservation,
  type FhirOptions,
} from './fhir.js';
import { pcd01Messages, type Pcd01Counts } from './pcd01.js';
import { pcd04Messages, type Pcd04Counts } from './pcd04.js';
import { csvHeader, csvLines, TABULAR_COLUMNS, tabularRows, type TabularRow } from './tabular.js';

export const EXPORT_FORMATS = ['fhir', 'pcd01', 'pcd04', 'parquet', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface ExportRequest {
  format: ExportFormat;
  fromUs?: number | undefined;
  toUs?: number | undefined;
  site?: string | undefined;
  bed?: string | undefined;
  /** site/gateway/device */
  device?: { site: string; gateway: string; device: string } | undefined;
  includeDemo?: boolean | undefined;
  /** Research export: pseudonyms, shifted times, no free text, no demo/test (docs/privacy.md). */
  deidentify?: Buffer | undefined;
  /** FHIR: one transaction Bundle instead of NDJSON lines. */
  bundle?: boolean | undefined;
  fhir?: FhirOptions & { patientAuthority?: string | undefined };
  /** Who asked (the audit entry's actor). */
  actor: string;
}

export interface ExportCounts {
  observations: number;
  waves: number;
  alarms: number;
  gaps: number;
  devices: number;
  records: number;
  pcd01?: Pcd01Counts;
  pcd04?: Pcd04Counts;
}

const PAGE_US = 6 * 3_600_000_000;
const PSEUDONYM_SYSTEM = 'urn:vitalwire:pseudonym';

/** Counters of one page added to those of the pages before. */
function sum<C extends object>(prev: C | undefined, next: C): C {
  if (!prev) return { ...next };
  const out = { ...prev } as Record<string, number>;
  for (const [k, v] of Object.entries(next) as [string, number][]) out[k] = (out[k] ?? 0) + v;
  return out as C;
}

async function write(out: Writable, s: string): Promise<void> {
  if (s && !out.write(s)) await once(out, 'drain');
}

export async function runExport(archive: Archive, req: ExportRequest, out: Writable): Promise<ExportCounts> {
  const store = archive.store;
  const idx = new BindingIndex(await listBindings(store.audit));
  const deid = req.deidentify ? new Deidentifier(req.deidentify) : null;
  const base: Scope = {
    site: req.device?.site ?? req.site,
    gateway: req.device?.gateway,
    device: req.device?.device,
    bed: req.bed,
    includeQuarantine: req.includeDemo === true && !deid,
  };
  const devices = new Map(
    (await devicesSeen(store, { site: base.site, gateway: base.gateway, device: base.device })).map((d) => [
      `${d.site}/${d.gateway}/${d.device}`,
      d,
    ]),
  );
  const extent = await store.sql.all(`SELECT min(t_us) AS lo, max(t_us) AS hi FROM ${store.sql.from('batch')} t`);
  const from = req.fromUs ?? (extent[0]?.['lo'] as number | null) ?? 0;
  const to = req.toUs ?? ((extent[0]?.['hi'] as number | null) ?? 0) + 1;
  const fhirOpts: FhirOptions = deid
    ? { patientSystem: PSEUDONYM_SYSTEM, encounterSystem: PSEUDONYM_SYSTEM }
    : (req.fhir ?? {});
  const counts: ExportCounts = { observations: 0, waves: 0, alarms: 0, gaps: 0, devices: 0, records: 0 };
  const devicesWritten = new Set<string>();
  // De-identified rows carry pseudonymous gateway and device ids: their Device resources still get the model.
  const realKeyOf = new Map<string, string>();
  if (deid) {
    for (const [k, d] of devices)
      realKeyOf.set(
        `${d.site}/${deid.pseudonym('gateway', `${d.site}/${d.gateway}`)}/${deid.pseudonym('device', k)}`,
        k,
      );
  }
  const bundled: (Device | Observation)[] = [];
  const tabular: TabularRow[][] = [];
  if (req.format === 'csv') await write(out, csvHeader());

  const deviceOf = (r: { site: string; gateway: string; device: string }, realKey: string): Device | null => {
    const key = `${r.site}/${r.gateway}/${r.device}`;
    if (devicesWritten.has(key)) return null;
    devicesWritten.add(key);
    const d = devices.get(realKey);
    const info: DeviceInfo = d
      ? { ...d, ...r, ...(deid ? { hardwareId: '' } : {}) }
      : { ...r, model: '', protocol: '', hardwareId: '', firstUs: 0, lastUs: 0 };
    counts.devices++;
    return deviceResource(info);
  };

  for (let t = from; t < to; t += PAGE_US) {
    const scope: Scope = { ...base, fromUs: t, toUs: Math.min(to, t + PAGE_US) };
    let obs = await selectRows(store, idx, 'obs', scope);
    let gaps = await selectRows(store, idx, 'gap', scope);
    const needWaves = req.format === 'fhir' || req.format === 'pcd01';
    let waves = needWaves ? await selectRows(store, idx, 'wave', scope) : [];
    let alarms = req.format === 'fhir' || req.format === 'pcd04' ? await selectRows(store, idx, 'alarm', scope) : [];
    if (deid) {
      obs = deid.rows('obs', obs);
      gaps = deid.rows('gap', gaps);
      waves = deid.rows('wave', waves);
      alarms = deid.rows('alarm', alarms);
    }
    counts.observations += obs.length;
    counts.gaps += gaps.length;
    counts.waves += waves.length;
    counts.alarms += alarms.length;
    if (req.format === 'fhir') {
      const resources: (Device | Observation)[] = [];
      for (const r of [...obs, ...waves, ...alarms, ...gaps]) {
        const key = `${r.site}/${r.gateway}/${r.device}`;
        const d = deviceOf(r, realKeyOf.get(key) ?? key);
        if (d) resources.push(d);
      }
      resources.push(
        ...observationsOf(obs, fhirOpts),
        ...waves.map((w) => waveObservation(w, fhirOpts)),
        ...alarms.map((a) => alarmObservation(a, fhirOpts)),
        ...gaps.map((g) => gapObservation(g, fhirOpts)),
      );
      counts.records += resources.length;
      if (req.bundle) bundled.push(...resources);
      else await write(out, resources.map((r) => `${JSON.stringify(r)}\n`).join(''));
    } else if (req.format === 'pcd04') {
      // IHE PCD-04 ORU^R40, one message per alarm row (pcd04.ts); the same batch layout as PCD-01.
      const r = pcd04Messages(alarms, devices, { patientAuthority: req.fhir?.patientAuthority });
      counts.records += r.messages.length;
      counts.pcd04 = sum(counts.pcd04, r.counts);
      await write(out, r.messages.map((m) => `${m}\n`).join(''));
    } else if (req.format === 'pcd01') {
      const r = pcd01Messages(obs, waves, devices, { patientAuthority: req.fhir?.patientAuthority });
      counts.records += r.messages.length;
      counts.pcd01 = sum(counts.pcd01, r.counts);
      // HL7 v2 batch of messages: each segment ends in CR; a newline after each message keeps a file readable.
      await write(out, r.messages.map((m) => `${m}\n`).join(''));
    } else {
      const rows = tabularRows(obs, gaps);
      counts.records += rows.length;
      if (req.format === 'csv') await write(out, csvLines(rows));
      else tabular.push(rows);
    }
  }
  if (req.format === 'fhir' && req.bundle) await write(out, `${JSON.stringify(transactionBundle(bundled))}\n`);
  if (req.format === 'parquet') await writeParquet(tabular.flat(), out);
  await store.audit.append({
    actor: req.actor,
    action: 'export',
    subject: req.format,
    before: null,
    after: {
      fromUs: from,
      toUs: to,
      site: base.site ?? null,
      bed: req.bed ?? null,
      device: req.device ? `${req.device.site}/${req.device.gateway}/${req.device.device}` : null,
      includeDemo: base.includeQuarantine === true,
      deidentified: deid !== null,
      ...counts,
    },
  });
  return counts;
}

/** Parquet through an in-memory DuckDB: rows appended, one COPY to a file, the file streamed out. */
async function writeParquet(rows: readonly TabularRow[], out: Writable): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'vw-export-'));
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await conn.run(`CREATE TABLE x (${TABULAR_COLUMNS.map(([n, t]) => `${n} ${t}`).join(', ')})`);
    const ap = await conn.createAppender('x');
    for (const r of rows) {
      for (const [n, t] of TABULAR_COLUMNS) {
        const v = r[n];
        if (v === null) ap.appendNull();
        else if (t === 'BIGINT') ap.appendBigInt(BigInt(v as number));
        else if (t === 'UINTEGER') ap.appendUInteger(v as number);
        else if (t === 'DOUBLE') ap.appendDouble(v as number);
        else if (t === 'BOOLEAN') ap.appendBoolean(v as boolean);
        else ap.appendVarchar(String(v));
      }
      ap.endRow();
    }
    ap.flushSync();
    ap.closeSync();
    const file = join(dir, 'export.parquet');
    await conn.run(`COPY x TO ${quoteLiteral(file)} (FORMAT parquet, COMPRESSION zstd)`);
    await pipeline(createReadStream(file), out, { end: false });
  } finally {
    conn.closeSync();
    instance.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
}
