// FHIR R4 search over the archive: what a hospital record system asks (`Observation?patient=…&code=…&date=ge…`,
// `Device?patient=…`), answered as searchset Bundles of the same resources the export writes (export/fhir.ts). No
// HTTP here (fanout/fhir.ts serves it): parameters in, a Bundle or an OperationOutcome out.
//
// What is searched: numeric and coded Observations (with the vital-signs profiles and LOINC codes where they apply,
// blood pressure as one panel), and, asked for by their code, declared gaps. Waveforms and alarms are in the export,
// not here. Demo, test and simulated data never appear (they are nobody's record). Parameters this server does not
// support are refused (400), never ignored: a misspelt `patinet=` must not widen a search to every patient.
import type {
  Bundle,
  BundleEntry,
  CapabilityStatement,
  Device,
  Observation,
  OperationOutcome,
} from '@medplum/fhirtypes';
import type { BindingIndex } from './bindings.js';
import {
  deviceId,
  deviceResource,
  DEVICE_SYSTEM,
  gapObservation,
  LOINC,
  MDC_SYSTEM,
  observationsOf,
  VW,
  type FhirOptions,
} from './export/fhir.js';
import { BP_DIASTOLIC, BP_MEAN, BP_PANEL, BP_SYSTOLIC, NIBP_SETS, VITAL_SIGNS } from './export/loinc.js';
import { devicesSeen, selectRows, type DeviceInfo, type Scope } from './query.js';
import type { ArchiveStore } from './store/types.js';

export const GAP_SYSTEM = `${VW}/CodeSystem/gap`;
export const BED_PARAM = `${VW}/SearchParameter/observation-bed`;
const MAX_COUNT = 1000;
const DEFAULT_COUNT = 100;

export interface SearchContext {
  store: ArchiveStore;
  bindings: BindingIndex;
  fhir: FhirOptions;
  /** The asking user's scope: devices it does not let through are not searched. */
  allow: (site: string, gateway: string, device: string) => boolean;
  /** This server's FHIR base URL, for fullUrl and paging links. */
  base: string;
}

export type SearchResult =
  { status: 200; body: Bundle | CapabilityStatement | Device } | { status: 400 | 404; body: OperationOutcome };

export function outcome(
  status: 400 | 404,
  code: 'invalid' | 'not-supported' | 'not-found',
  text: string,
): SearchResult {
  return {
    status,
    body: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics: text }] },
  };
}

class BadRequest extends Error {}
const bad = (text: string): never => {
  throw new BadRequest(text);
};

/** A FHIR date or dateTime as the interval its precision implies, [lo, hi) in microseconds (FHIR R4 3.1.1.5.9). */
export function dateRange(v: string): [number, number] {
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?)?)?$/.exec(v);
  if (!m) return bad(`date ${JSON.stringify(v)} is not a FHIR date or dateTime (with its zone when it has a time)`);
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const Y = Number(y);
  if (mo === undefined) return [Date.UTC(Y, 0, 1) * 1000, Date.UTC(Y + 1, 0, 1) * 1000];
  const M = Number(mo) - 1;
  if (d === undefined) return [Date.UTC(Y, M, 1) * 1000, Date.UTC(Y, M + 1, 1) * 1000];
  // A date without a time has no zone: taken as the UTC day (docs/archive.md).
  if (h === undefined) return [Date.UTC(Y, M, Number(d)) * 1000, Date.UTC(Y, M, Number(d) + 1) * 1000];
  const base = `${y}-${mo}-${d}T${h}:${mi}:${s ?? '00'}${zone}`;
  const ms = Date.parse(base);
  if (!Number.isFinite(ms)) return bad(`date ${JSON.stringify(v)} is not a valid time`);
  if (s === undefined) return [ms * 1000, (ms + 60_000) * 1000];
  if (frac === undefined) return [ms * 1000, (ms + 1000) * 1000];
  const digits = frac.slice(1, 7);
  const lo = ms * 1000 + Number(digits.padEnd(6, '0'));
  return [lo, lo + 10 ** (6 - digits.length)];
}

/** The time bounds of every `date` parameter, intersected (each is ANDed, FHIR R4 3.1.1.5.9 prefixes). */
function dateBounds(values: readonly string[]): { fromUs?: number; toUs?: number } {
  let from = -Infinity;
  let to = Infinity;
  for (const v of values) {
    const m = /^(eq|gt|lt|ge|le|sa|eb|ne|ap)?(.*)$/.exec(v) as RegExpExecArray;
    const prefix = m[1] ?? 'eq';
    const [lo, hi] = dateRange(m[2] as string);
    // Observations are points in time: gt/sa start after the interval, lt/eb end before it.
    if (prefix === 'eq') {
      from = Math.max(from, lo);
      to = Math.min(to, hi);
    } else if (prefix === 'ge') from = Math.max(from, lo);
    else if (prefix === 'gt' || prefix === 'sa') from = Math.max(from, hi);
    else if (prefix === 'le') to = Math.min(to, hi);
    else if (prefix === 'lt' || prefix === 'eb') to = Math.min(to, lo);
    else bad(`date prefix ${prefix} is not supported (eq, gt, ge, lt, le, sa, eb)`);
  }
  return { ...(from > -Infinity ? { fromUs: from } : {}), ...(to < Infinity ? { toUs: to } : {}) };
}

interface Token {
  system: string | null;
  code: string;
}

/** `system|code`, `|code` (no system) or `code` (any system), comma-separated: FHIR R4 token search. */
function tokens(values: readonly string[]): Token[] {
  return values
    .flatMap((v) => v.split(','))
    .map((t) => {
      const i = t.indexOf('|');
      if (i < 0) return { system: null, code: t };
      return { system: t.slice(0, i), code: t.slice(i + 1) };
    })
    .filter((t) => t.code !== '');
}

/** MDC codes whose rows can become an Observation with one of these codes (the search then checks each resource). */
function candidateMdcs(ts: readonly Token[]): number[] {
  const out = new Set<number>();
  for (const t of ts) {
    if ((t.system === null || t.system === MDC_SYSTEM) && /^\d{1,10}$/.test(t.code)) out.add(Number(t.code));
    if (t.system === null || t.system === LOINC) {
      for (const [mdc, vs] of VITAL_SIGNS) if (vs.loinc.some((l) => l.code === t.code)) out.add(mdc);
      // A blood pressure panel is built from its systolic, diastolic and mean rows.
      if (
        t.code === BP_PANEL.code ||
        t.code === BP_SYSTOLIC.code ||
        t.code === BP_DIASTOLIC.code ||
        t.code === BP_MEAN.code
      ) {
        for (const set of NIBP_SETS) for (const m of [set.sys, set.dia, set.mean]) out.add(m);
      }
    }
  }
  return [...out];
}

const codeMatches = (o: Observation, ts: readonly Token[]): boolean =>
  (o.code.coding ?? []).some((c) =>
    ts.some((t) => t.code === c.code && (t.system === null || t.system === (c.system ?? ''))),
  );

/** A patient given as `Patient/ID`, `ID` or (with :identifier) `system|ID`; null when the system is not this site's. */
function patientOf(v: string, identifier: boolean, fhir: FhirOptions): string | null {
  if (identifier) {
    const i = v.indexOf('|');
    if (i < 0) return v;
    const system = v.slice(0, i);
    return !fhir.patientSystem || system === fhir.patientSystem ? v.slice(i + 1) : null;
  }
  return v.startsWith('Patient/') ? v.slice('Patient/'.length) : v;
}

type Subject = Pick<Scope, 'patient' | 'bed' | 'site' | 'gateway' | 'device'>;

const OBSERVATION_PARAMS = [
  'patient',
  'subject',
  'patient:identifier',
  'subject:identifier',
  'bed',
  'device',
  'code',
  'date',
  '_count',
  '_offset',
  '_include',
];
/** The one include a record system needs here: each Observation's device, saving a read per reference. */
const DEVICE_INCLUDE = 'Observation:device';
const DEVICE_PARAMS = ['patient', 'patient:identifier', '_id', 'identifier', '_count'];

function checkParams(params: URLSearchParams, allowed: readonly string[]): void {
  for (const k of new Set(params.keys())) {
    if (!allowed.includes(k))
      bad(`search parameter ${JSON.stringify(k)} is not supported here (supported: ${allowed.join(', ')})`);
  }
}

function intParam(params: URLSearchParams, name: string, def: number, max: number): number {
  const v = params.get(name);
  if (v === null) return def;
  if (!/^\d{1,9}$/.test(v)) bad(`${name} must be a whole number`);
  return Math.min(Number(v), max);
}

/** The devices of `device=Device/<id>` (or `<id>`). */
async function devicesById(ctx: SearchContext, ids: readonly string[]): Promise<DeviceInfo[]> {
  const want = new Set(
    ids.flatMap((v) => v.split(',')).map((v) => (v.startsWith('Device/') ? v.slice('Device/'.length) : v)),
  );
  return (await devicesSeen(ctx.store)).filter((d) => want.has(deviceId(d.site, d.gateway, d.device)));
}

/** Who or what the search is about: patients, beds or devices; at least one is required. */
async function subjectsOf(ctx: SearchContext, params: URLSearchParams): Promise<Subject[]> {
  const out: Subject[] = [];
  const each = (name: string, f: (v: string) => void): void => {
    for (const v of params.getAll(name).flatMap((x) => x.split(','))) if (v !== '') f(v);
  };
  for (const [name, identifier] of [
    ['patient', false],
    ['subject', false],
    ['patient:identifier', true],
    ['subject:identifier', true],
  ] as const) {
    each(name, (v) => {
      const p = patientOf(v, identifier, ctx.fhir);
      // Another system's identifier names nobody here: a subject that matches no row.
      out.push(p === null ? { patient: '\u0000no-such-patient' } : { patient: p });
    });
  }
  each('bed', (v) => out.push({ bed: v }));
  if (params.has('device')) {
    const ds = await devicesById(ctx, params.getAll('device'));
    if (ds.length === 0) out.push({ site: '\u0000', gateway: '\u0000', device: '\u0000' });
    for (const d of ds) out.push({ site: d.site, gateway: d.gateway, device: d.device });
  }
  if (out.length === 0) bad('say whose Observations: patient, subject, bed or device');
  return out;
}

function effectiveUs(o: Observation): string {
  return o.effectiveDateTime ?? o.effectivePeriod?.start ?? '';
}

function bundle(
  ctx: SearchContext,
  type: string,
  resources: readonly (Observation | Device)[],
  self: URLSearchParams,
  next: URLSearchParams | null,
  included: readonly Device[] = [],
): Bundle {
  const url = (p: URLSearchParams): string => `${ctx.base}/${type}${p.size > 0 ? `?${p.toString()}` : ''}`;
  const entry: BundleEntry[] = resources.map((r) => ({
    fullUrl: `${ctx.base}/${r.resourceType}/${r.id}`,
    resource: r,
    search: { mode: 'match' },
  }));
  for (const r of included)
    entry.push({ fullUrl: `${ctx.base}/${r.resourceType}/${r.id}`, resource: r, search: { mode: 'include' } });
  return {
    resourceType: 'Bundle',
    type: 'searchset',
    ...(next ? {} : { total: resources.length + Number(self.get('_offset') ?? 0) }),
    link: [{ relation: 'self', url: url(self) }, ...(next ? [{ relation: 'next', url: url(next) }] : [])],
    entry,
  };
}

/** GET [base]/Observation?… */
export async function searchObservations(ctx: SearchContext, params: URLSearchParams): Promise<SearchResult> {
  try {
    checkParams(params, OBSERVATION_PARAMS);
    const includes = params.getAll('_include');
    for (const v of includes)
      if (v !== DEVICE_INCLUDE && v !== `${DEVICE_INCLUDE}:Device`)
        bad(`_include=${v} is not supported here (supported: ${DEVICE_INCLUDE})`);
    const subjects = await subjectsOf(ctx, params);
    const range = dateBounds(params.getAll('date'));
    const codes = tokens(params.getAll('code'));
    const count = Math.max(1, intParam(params, '_count', DEFAULT_COUNT, MAX_COUNT));
    const offset = intParam(params, '_offset', 0, 1e9);
    const gaps = codes.some((t) => t.code === 'gap' && (t.system === null || t.system === GAP_SYSTEM));
    const mdcs = candidateMdcs(codes);
    if (codes.length > 0 && mdcs.length === 0 && !gaps)
      return { status: 200, body: bundle(ctx, 'Observation', [], params, null) };
    // One page of rows over every subject, oldest first; one more than asked to know whether a next page exists.
    const rows = [];
    for (const s of subjects) {
      const scope: Scope = {
        ...s,
        ...range,
        allow: ctx.allow,
        ...(gaps ? {} : { codes: mdcs.length > 0 ? mdcs : undefined }),
        limit: offset + count + 1,
      };
      rows.push(
        ...(gaps
          ? await selectRows(ctx.store, ctx.bindings, 'gap', scope)
          : await selectRows(ctx.store, ctx.bindings, 'obs', scope)),
      );
    }
    rows.sort((a, b) => a.t_us - b.t_us || a.device.localeCompare(b.device) || a.seq - b.seq || a.idx - b.idx);
    // A device outside the user's scope, asked for by its id, is not searched (bed and patient subjects are filtered
    // through their bindings by `allow`).
    const visible = rows.filter((r) => ctx.allow(r.site, r.gateway, r.device));
    let page = visible.slice(offset, offset + count);
    const more = visible.length > offset + count;
    const after = visible[offset + count];
    const last = page[page.length - 1];
    if (
      after &&
      last &&
      after.device === last.device &&
      after.seq === last.seq &&
      after.kind === last.kind &&
      after.site === last.site
    ) {
      // Whole Batches per page: a blood pressure panel is built from rows of one Batch, which continues past this page.
      const cut = page.findIndex(
        (r) => r.device === last.device && r.seq === last.seq && r.kind === last.kind && r.site === last.site,
      );
      if (cut > 0) page = page.slice(0, cut);
    }
    let resources: Observation[] = gaps
      ? (page as Parameters<typeof gapObservation>[0][]).map((g) => gapObservation(g, ctx.fhir))
      : observationsOf(page as Parameters<typeof observationsOf>[0], ctx.fhir);
    if (codes.length > 0 && !gaps) resources = resources.filter((o) => codeMatches(o, codes));
    resources.sort((a, b) => effectiveUs(a).localeCompare(effectiveUs(b)));
    let next: URLSearchParams | null = null;
    if (more) {
      next = new URLSearchParams(params);
      next.set('_offset', String(offset + page.length));
    }
    let included: Device[] = [];
    if (includes.length > 0) {
      // Each device the page references, once; only devices the user may see (all are: rows were filtered).
      const refs = [...new Set(resources.map((o) => o.device?.reference ?? '').filter((r) => r.startsWith('Device/')))];
      included = (await devicesById(ctx, refs))
        .filter((d) => ctx.allow(d.site, d.gateway, d.device))
        .map(deviceResource);
    }
    return { status: 200, body: bundle(ctx, 'Observation', resources, params, next, included) };
  } catch (err) {
    if (err instanceof BadRequest) return outcome(400, 'invalid', err.message);
    throw err;
  }
}

/** GET [base]/Device?… : the devices seen, of a patient (through the bindings), by id or identifier; all in scope. */
export async function searchDevices(ctx: SearchContext, params: URLSearchParams): Promise<SearchResult> {
  try {
    checkParams(params, DEVICE_PARAMS);
    let ds = (await devicesSeen(ctx.store)).filter((d) => ctx.allow(d.site, d.gateway, d.device));
    if (params.has('_id')) {
      const ids = new Set(params.getAll('_id').flatMap((v) => v.split(',')));
      ds = ds.filter((d) => ids.has(deviceId(d.site, d.gateway, d.device)));
    }
    if (params.has('identifier')) {
      const ts = tokens(params.getAll('identifier'));
      ds = ds.filter((d) =>
        ts.some(
          (t) => (t.system === null || t.system === DEVICE_SYSTEM) && t.code === `${d.site}/${d.gateway}/${d.device}`,
        ),
      );
    }
    const patients = [
      ...params.getAll('patient').map((v) => patientOf(v, false, ctx.fhir)),
      ...params.getAll('patient:identifier').map((v) => patientOf(v, true, ctx.fhir)),
    ];
    if (patients.length > 0) {
      const bound = new Set(
        ctx.bindings.all
          .filter((b) => b.patient !== null && patients.includes(b.patient))
          .map((b) => `${b.site}/${b.gateway}/${b.device}`),
      );
      ds = ds.filter((d) => bound.has(`${d.site}/${d.gateway}/${d.device}`));
    }
    const count = Math.max(1, intParam(params, '_count', MAX_COUNT, MAX_COUNT));
    return { status: 200, body: bundle(ctx, 'Device', ds.slice(0, count).map(deviceResource), params, null) };
  } catch (err) {
    if (err instanceof BadRequest) return outcome(400, 'invalid', err.message);
    throw err;
  }
}

/**
 * GET [base]/Device/[id]: the read a record system makes to resolve an Observation's `device` reference. A device out of
 * the user's scope reads as not found, like one never seen (its existence is not the user's to learn).
 */
export async function readDevice(ctx: SearchContext, id: string): Promise<SearchResult> {
  // devicesById takes search values (comma lists, `Device/` prefixes); a read names one id exactly.
  const d = (await devicesById(ctx, [id])).find(
    (x) => deviceId(x.site, x.gateway, x.device) === id && ctx.allow(x.site, x.gateway, x.device),
  );
  return d ? { status: 200, body: deviceResource(d) } : outcome(404, 'not-found', `Device/${id} is not known here`);
}

/** GET [base]/metadata: what this server answers. */
export function capabilityStatement(base: string, software: { name: string; version: string }): CapabilityStatement {
  const param = (
    name: string,
    type: 'reference' | 'token' | 'date' | 'string' | 'number',
    documentation: string,
    definition?: string,
  ) => ({ name, type, documentation, ...(definition ? { definition } : {}) });
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2026-01-01',
    kind: 'instance',
    fhirVersion: '4.0.1',
    format: ['application/fhir+json'],
    software,
    implementation: { description: 'vitalwire archive: vital signs from bedside monitors', url: base },
    rest: [
      {
        mode: 'server',
        security: {
          description:
            "A dashboard session token (POST /api/login) as Authorization: Bearer; roles service and admin; results limited to the user's sites",
        },
        resource: [
          {
            type: 'Observation',
            interaction: [{ code: 'search-type' }],
            searchInclude: [DEVICE_INCLUDE],
            searchParam: [
              param(
                'patient',
                'reference',
                'Patient/ID or ID: the patient bound to the device at the time of each value',
              ),
              param('subject', 'reference', 'as patient'),
              param('bed', 'string', 'a bed label: the devices bound to it, over their binding times', BED_PARAM),
              param('device', 'reference', 'Device/ID'),
              param(
                'code',
                'token',
                'LOINC or MDC (urn:iso:std:iso:11073:10101) code; https://vitalwire.dev/fhir/CodeSystem/gap|gap for declared gaps',
              ),
              param('date', 'date', 'effective time, with prefixes eq, gt, ge, lt, le, sa, eb'),
              param('_count', 'number', `rows per page, at most ${MAX_COUNT}`),
            ],
          },
          {
            type: 'Device',
            interaction: [{ code: 'read' }, { code: 'search-type' }],
            searchParam: [
              param('patient', 'reference', 'devices ever bound to the patient'),
              param('_id', 'token', 'resource id'),
              param('identifier', 'token', `${DEVICE_SYSTEM}|site/gateway/device`),
            ],
          },
        ],
      },
    ],
  };
}
