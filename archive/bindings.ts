// Bed and patient binding: which bed (and which patient, which encounter) a device served, over which time. Data
// stays keyed by device; a binding is applied when data is read, so a correction later changes every export after it.
// Bindings live only as audit entries (binding.set / binding.end carry the whole binding before and after), set
// centrally (`vitalwire bind`), never from what a device claims. A device is at one bed at a time: a new binding
// ends the device's open one at its start; any other overlap is refused.
import { randomUUID } from 'node:crypto';
import { VitalwireError } from '../lib/errors.js';
import { isValidSegment } from '../lib/topics.js';
import type { AuditEntry, AuditLog } from './audit.js';

export interface Binding {
  id: string;
  site: string;
  gateway: string;
  device: string;
  bed: string;
  patient: string | null;
  encounter: string | null;
  /** Valid over [fromUs, toUs); toUs null while open. */
  fromUs: number;
  toUs: number | null;
}

export interface BindingInput {
  site: string;
  gateway: string;
  device: string;
  bed: string;
  patient?: string | undefined;
  encounter?: string | undefined;
  fromUs: number;
  toUs?: number | undefined;
}

const LABEL = /^[^\u0000-\u001f\u007f]{1,64}$/;
const IDENT = /^[^\u0000-\u001f\u007f]{1,128}$/;

/** The bindings as the audit entries leave them, oldest first. */
export function foldBindings(entries: readonly AuditEntry[]): Binding[] {
  const byId = new Map<string, Binding>();
  for (const e of entries) {
    if ((e.action === 'binding.set' || e.action === 'binding.end') && e.after)
      byId.set(e.subject, e.after as unknown as Binding);
  }
  return [...byId.values()].sort((a, b) => a.fromUs - b.fromUs);
}

export async function listBindings(audit: AuditLog): Promise<Binding[]> {
  return foldBindings(await audit.list(['binding.set', 'binding.end']));
}

const overlaps = (a: { fromUs: number; toUs: number | null }, from: number, to: number | null): boolean =>
  (to === null || a.fromUs < to) && (a.toUs === null || from < a.toUs);

const fail = (detail: string): never => {
  throw new VitalwireError('VW_ERR_BINDING', detail);
};

/** Binds a device to a bed (and patient, encounter) from fromUs; audited as `actor`. Returns the new binding. */
export async function setBinding(audit: AuditLog, actor: string, input: BindingInput): Promise<Binding> {
  for (const s of [input.site, input.gateway, input.device])
    if (!isValidSegment(s)) fail(`invalid device id segment ${JSON.stringify(s)}`);
  if (!LABEL.test(input.bed)) fail('bed label must be 1-64 printable characters');
  if (input.patient !== undefined && !IDENT.test(input.patient))
    fail('patient identifier must be 1-128 printable characters');
  if (input.encounter !== undefined && !IDENT.test(input.encounter))
    fail('encounter identifier must be 1-128 printable characters');
  if (!Number.isFinite(input.fromUs) || input.fromUs <= 0) fail('--from must be a time');
  const toUs = input.toUs ?? null;
  if (toUs !== null && !(toUs > input.fromUs)) fail('--to must be after --from');
  return audit.exclusive(async (tx) => {
    const same = foldBindings(await tx.list(['binding.set', 'binding.end'])).filter(
      (b) => b.site === input.site && b.gateway === input.gateway && b.device === input.device,
    );
    const toEnd: Binding[] = [];
    for (const b of same) {
      if (!overlaps(b, input.fromUs, toUs)) continue;
      // The device's open binding that began earlier: the device has moved on (new patient, new bed).
      if (b.toUs === null && b.fromUs < input.fromUs) toEnd.push(b);
      else
        fail(
          `device ${input.site}/${input.gateway}/${input.device} is bound to bed ${b.bed} over an overlapping time (binding ${b.id}); end or correct that one first`,
        );
    }
    for (const b of toEnd) {
      await tx.append({
        actor,
        action: 'binding.end',
        subject: b.id,
        before: { ...b },
        after: { ...b, toUs: input.fromUs },
      });
    }
    const binding: Binding = {
      id: randomUUID(),
      site: input.site,
      gateway: input.gateway,
      device: input.device,
      bed: input.bed,
      patient: input.patient ?? null,
      encounter: input.encounter ?? null,
      fromUs: input.fromUs,
      toUs,
    };
    await tx.append({ actor, action: 'binding.set', subject: binding.id, before: null, after: { ...binding } });
    return binding;
  });
}

/** Ends (or shortens) a binding at atUs; ending it at its start voids it. Audited as `actor`. */
export async function endBinding(audit: AuditLog, actor: string, id: string, atUs: number): Promise<Binding> {
  return audit.exclusive(async (tx) => {
    const b = foldBindings(await tx.list(['binding.set', 'binding.end'])).find((x) => x.id === id);
    if (!b) return fail(`no binding ${id}`);
    if (!Number.isFinite(atUs) || atUs < b.fromUs) fail('the end must not be before the binding starts');
    if (b.toUs !== null && atUs >= b.toUs) fail('the binding already ends at or before that time');
    const after: Binding = { ...b, toUs: atUs };
    await tx.append({ actor, action: 'binding.end', subject: id, before: { ...b }, after: { ...after } });
    return after;
  });
}

/** Bindings looked up by device and time, by bed, and by patient. */
export class BindingIndex {
  private readonly byDevice = new Map<string, Binding[]>();
  readonly all: readonly Binding[];

  constructor(bindings: readonly Binding[]) {
    this.all = bindings;
    for (const b of bindings) {
      if (b.toUs !== null && b.toUs <= b.fromUs) continue; // voided
      const k = `${b.site}/${b.gateway}/${b.device}`;
      let list = this.byDevice.get(k);
      if (!list) this.byDevice.set(k, (list = []));
      list.push(b);
    }
    for (const list of this.byDevice.values()) list.sort((a, b) => a.fromUs - b.fromUs);
  }

  /** The binding of a device valid at tUs, or null (unbound). */
  at(site: string, gateway: string, device: string, tUs: number): Binding | null {
    const list = this.byDevice.get(`${site}/${gateway}/${device}`);
    if (!list) return null;
    let lo = 0;
    let hi = list.length - 1;
    let found: Binding | null = null;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const b = list[mid] as Binding;
      if (b.fromUs <= tUs) {
        found = b;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found && (found.toUs === null || tUs < found.toUs) ? found : null;
  }

  /** Bindings matching a filter that overlap [fromUs, toUs). */
  where(
    f: { bed?: string | undefined; patient?: string | undefined; site?: string | undefined },
    fromUs = 0,
    toUs: number | null = null,
  ): Binding[] {
    const out: Binding[] = [];
    for (const list of this.byDevice.values()) {
      for (const b of list) {
        if (f.bed !== undefined && b.bed !== f.bed) continue;
        if (f.patient !== undefined && b.patient !== f.patient) continue;
        if (f.site !== undefined && b.site !== f.site) continue;
        if (overlaps(b, fromUs, toUs)) out.push(b);
      }
    }
    return out.sort((a, b) => a.fromUs - b.fromUs);
  }
}
