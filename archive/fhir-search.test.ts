// FHIR search over the archive, without HTTP: the searches a hospital record system makes (a patient's heart rate
// over a night, by LOINC or MDC code, with date prefixes; a bed; a device; the patient's devices), each answer a
// searchset Bundle validated against the published R4 definitions; paging keeps a blood pressure panel whole;
// simulated data and devices outside the user's scope never appear; unknown parameters are refused.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle, Observation, OperationOutcome } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../lib/log.js';
import { Flag } from '../proto/index.js';
import { BindingIndex, listBindings, setBinding } from './bindings.js';
import { deviceId } from './export/fhir.js';
import { validateR4 } from './export/fhir-validate.js';
import { dateRange, searchDevices, searchObservations, type SearchContext } from './fhir-search.js';
import { openDuckDbStore } from './store/duckdb.js';
import type { ArchiveStore } from './store/types.js';
import { publish, rowsOf, vitalsBatch } from './test-kit.js';

const H = 3_600_000_000;
const M = 60_000_000;
const T = Date.UTC(2026, 0, 15, 20, 0, 0) * 1000; // 20:00 UTC
const A = { site: 'bv', gateway: 'gw1', device: 'monA' };
const B = { site: 'bv', gateway: 'gw1', device: 'monB' };
const OTHER = { site: 'hn', gateway: 'gw9', device: 'monC' };
let dir = '';
let store: ArchiveStore;
let ctx: SearchContext;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vw-fhir-search-'));
  store = await openDuckDbStore({ dir, logger: silentLogger() });
  // monA: vitals every 10 minutes for 12 h (72 Batches: HR, SpO2, NIBP panel); seq 30 is simulated.
  const rows = [];
  for (let i = 0; i < 72; i++) {
    rows.push(
      rowsOf(
        vitalsBatch(
          A,
          i + 1,
          T + i * 10 * M,
          { hr: 60 + (i % 30), spo2: 95, sys: 120 + (i % 5), dia: 80, mean: 93 },
          i === 29 ? Flag.FLAG_SIMULATED : 0,
        ),
      ),
    );
  }
  rows.push(
    rowsOf(
      publish(A, 'status', 1, {
        gaps: [{ kind: 1, fromSeq: 80, toSeq: 85, fromTimeUs: T + 12 * H, toTimeUs: T + 13 * H, reason: 1 }],
      }),
    ),
  );
  rows.push(rowsOf(vitalsBatch(B, 1, T, { hr: 111 })), rowsOf(vitalsBatch(OTHER, 1, T, { hr: 99 })));
  await store.write(rows);
  await store.checkpoint();
  await setBinding(store.audit, 'nurse', { ...A, bed: 'ICU-3', patient: 'MRN-1', encounter: 'E-1', fromUs: T - H });
  await setBinding(store.audit, 'nurse', { ...B, bed: 'ICU-4', patient: 'MRN-2', fromUs: T - H });
  await setBinding(store.audit, 'nurse', { ...OTHER, bed: 'HN-1', patient: 'MRN-1', fromUs: T - H });
  ctx = {
    store,
    bindings: new BindingIndex(await listBindings(store.audit)),
    fhir: { patientSystem: 'urn:oid:1.2.3' },
    base: 'http://central/fhir',
    // The user's scope: the site bv only.
    allow: (site) => site === 'bv',
  };
});
afterAll(async () => {
  await store?.close();
  await rm(dir, { recursive: true, force: true });
});

async function search(q: string): Promise<Bundle> {
  const r = await searchObservations(ctx, new URLSearchParams(q));
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  const b = r.body as Bundle;
  expect(validateR4(b)).toEqual([]);
  for (const e of b.entry ?? []) expect(validateR4(e.resource as Observation), e.fullUrl).toEqual([]);
  return b;
}

const values = (b: Bundle): number[] =>
  (b.entry ?? []).map((e) => (e.resource as Observation).valueQuantity?.value as number);

describe('FHIR search over the archive', () => {
  it('dates carry the interval their precision implies (FHIR R4 search, date parameters)', () => {
    expect(dateRange('2026-01-15')).toEqual([Date.UTC(2026, 0, 15) * 1000, Date.UTC(2026, 0, 16) * 1000]);
    expect(dateRange('2026-01')).toEqual([Date.UTC(2026, 0, 1) * 1000, Date.UTC(2026, 1, 1) * 1000]);
    expect(dateRange('2026-01-15T21:30:00+07:00')).toEqual([
      Date.UTC(2026, 0, 15, 14, 30) * 1000,
      Date.UTC(2026, 0, 15, 14, 30, 1) * 1000,
    ]);
    expect(dateRange('2026-01-15T21:30:00.25Z')).toEqual([
      Date.UTC(2026, 0, 15, 21, 30) * 1000 + 250_000,
      Date.UTC(2026, 0, 15, 21, 30) * 1000 + 260_000,
    ]);
  });

  it("a patient's heart rate over a night by LOINC 8867-4, with ge and lt, in time order, without simulated values", async () => {
    // 22:00 to 02:00: Batches 12 to 35 (every 10 minutes from 20:00), of which seq 30 is simulated.
    const b = await search(
      'patient=MRN-1&code=http://loinc.org|8867-4&date=ge2026-01-15T22:00:00Z&date=lt2026-01-16T02:00:00Z',
    );
    expect(b.type).toBe('searchset');
    const expected = Array.from({ length: 24 }, (_, k) => k + 12)
      .filter((i) => i !== 29)
      .map((i) => 60 + (i % 30));
    expect(values(b)).toEqual(expected);
    const o = b.entry?.[0]?.resource as Observation;
    expect(o.subject).toEqual({ type: 'Patient', identifier: { system: 'urn:oid:1.2.3', value: 'MRN-1' } });
    expect(o.code.coding?.map((c) => c.code)).toEqual(['8867-4', '147842']);
    expect(o.meta?.profile).toContain('http://hl7.org/fhir/StructureDefinition/heartrate');
    expect(o.effectiveDateTime).toBe('2026-01-15T22:00:00.000000Z');
    // MRN-1's other device is at a site outside the user's scope: its 99 never shows.
    expect(values(b)).not.toContain(99);
  });

  it('takes MDC codes, subject and subject:identifier, and the same search reads the same', async () => {
    const byMdc = await search('subject=Patient/MRN-1&code=urn:iso:std:iso:11073:10101|147842&date=2026-01-15');
    expect(values(byMdc)).toHaveLength(24); // 20:00 to 24:00 UTC: 24 Batches
    const byIdentifier = await search('subject:identifier=urn:oid:1.2.3|MRN-1&code=147842&date=2026-01-15');
    expect(values(byIdentifier)).toEqual(values(byMdc));
    // Another hospital's identifier system names nobody here.
    expect(values(await search('subject:identifier=urn:oid:9.9|MRN-1&code=147842'))).toEqual([]);
  });

  it('gives blood pressure as one 85354-9 panel, and pages without splitting one', async () => {
    const all = await search('patient=MRN-1&code=http://loinc.org|85354-9&_count=1000');
    expect(all.entry).toHaveLength(71);
    const panel = all.entry?.[0]?.resource as Observation;
    expect(panel.component?.map((c) => [c.code.coding?.[0]?.code, c.valueQuantity?.value])).toEqual([
      ['8480-6', 120],
      ['8462-4', 80],
      ['8478-0', 93],
    ]);
    // Pages of 20 rows: whole Batches, so every page holds whole panels; following `next` gives them all once.
    const seen: string[] = [];
    let q: string | null = 'patient=MRN-1&code=85354-9&_count=20';
    let pages = 0;
    while (q !== null) {
      const page = await search(q);
      pages++;
      for (const e of page.entry ?? []) {
        expect((e.resource as Observation).component).toHaveLength(3);
        seen.push(e.fullUrl as string);
      }
      const next = page.link?.find((l) => l.relation === 'next')?.url;
      q = next ? (next.split('?')[1] ?? '') : null;
    }
    expect(pages).toBeGreaterThan(3);
    expect(seen).toEqual((all.entry ?? []).map((e) => e.fullUrl));
  });

  it('finds by bed and by device, and declared gaps by their code', async () => {
    expect(values(await search('bed=ICU-4&code=8867-4'))).toEqual([111]);
    expect(values(await search(`device=Device/${deviceId(B.site, B.gateway, B.device)}&code=8867-4`))).toEqual([111]);
    // A device outside the user's scope, asked for by its id: nothing.
    expect(values(await search(`device=Device/${deviceId(OTHER.site, OTHER.gateway, OTHER.device)}`))).toEqual([]);
    const gaps = await search('patient=MRN-1&code=https://vitalwire.dev/fhir/CodeSystem/gap|gap');
    expect(
      gaps.entry?.map((e) => [
        (e.resource as Observation).effectivePeriod,
        (e.resource as Observation).dataAbsentReason?.coding?.[0]?.code,
      ]),
    ).toEqual([[{ start: '2026-01-16T08:00:00.000000Z', end: '2026-01-16T09:00:00.000000Z' }, 'not-performed']]);
  });

  it('refuses a search with no subject, an unknown parameter, or a bad date; never widens it', async () => {
    for (const q of [
      'code=8867-4',
      'patinet=MRN-1',
      'patient=MRN-1&date=yesterday',
      'patient=MRN-1&date=ne2026-01-15',
    ]) {
      const r = await searchObservations(ctx, new URLSearchParams(q));
      expect(r.status, q).toBe(400);
      expect(validateR4(r.body as OperationOutcome)).toEqual([]);
    }
  });

  it("lists a patient's devices, within the user's scope", async () => {
    const r = await searchDevices(ctx, new URLSearchParams('patient=MRN-1'));
    expect(r.status).toBe(200);
    const b = r.body as Bundle;
    expect(validateR4(b)).toEqual([]);
    expect(b.entry?.map((e) => (e.resource as { identifier: { value: string }[] }).identifier[0]?.value)).toEqual([
      'bv/gw1/monA',
    ]);
  });
});
