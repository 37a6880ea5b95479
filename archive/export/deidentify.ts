// De-identified research export (docs/privacy.md). Applied to rows before any format sees them:
// - only data bound to a patient, never quarantined (demo, test, simulated) data, and nothing unbound;
// - patient and encounter identifiers become keyed pseudonyms: HMAC-SHA256 with the site secret (never leaves the
//   data directory, mode 0600), so the same patient gets the same pseudonym in every export of this site and no one
//   without the secret can compute or reverse it;
// - gateway, device and bed become keyed pseudonyms too (a bed label and a serial number are quasi-identifiers);
// - every time of a patient's data is shifted by that patient's keyed offset, whole days in [-182, +182] (never 0),
//   so intervals, time of day and weekday-free patterns stay true while calendar dates do not;
// - free text is dropped (value text, code display text, alarm text, facet values, status diagnosis).
import { createHmac } from 'node:crypto';
import type { Binding } from '../bindings.js';
import type { Bound, DataTable, RowOfTable } from '../query.js';

const DAY_US = 86_400_000_000;

export class Deidentifier {
  private readonly key: Buffer;
  private readonly shifts = new Map<string, number>();

  constructor(siteSecret: Buffer) {
    if (siteSecret.length < 32) throw new RangeError('the site secret must hold at least 32 bytes');
    this.key = siteSecret;
  }

  pseudonym(kind: string, value: string): string {
    return createHmac('sha256', this.key).update(`${kind}\u0000${value}`).digest('hex').slice(0, 20);
  }

  /** The patient's time offset in microseconds: whole days in [-182, 182], never 0. */
  shiftUs(patient: string): number {
    let s = this.shifts.get(patient);
    if (s === undefined) {
      const h = createHmac('sha256', this.key).update(`shift\u0000${patient}`).digest();
      const days = (h.readUInt32BE(0) % 364) - 182; // -182..181
      s = (days >= 0 ? days + 1 : days) * DAY_US; // skip 0: -182..-1, 1..182
      this.shifts.set(patient, s);
    }
    return s;
  }

  private binding(b: Binding): Binding {
    const shift = this.shiftUs(b.patient as string);
    return {
      id: this.pseudonym('binding', b.id),
      site: b.site,
      gateway: this.pseudonym('gateway', `${b.site}/${b.gateway}`),
      device: this.pseudonym('device', `${b.site}/${b.gateway}/${b.device}`),
      bed: this.pseudonym('bed', `${b.site}/${b.bed}`),
      patient: this.pseudonym('patient', b.patient as string),
      encounter: b.encounter === null ? null : this.pseudonym('encounter', b.encounter),
      fromUs: b.fromUs + shift,
      toUs: b.toUs === null ? null : b.toUs + shift,
    };
  }

  /** The rows that may leave in a research export, de-identified. */
  rows<T extends DataTable>(table: T, rows: readonly Bound<RowOfTable[T]>[]): Bound<RowOfTable[T]>[] {
    const out: Bound<RowOfTable[T]>[] = [];
    for (const r of rows) {
      if (r.quarantined || !r.binding?.patient) continue;
      // A value that was only free text goes whole: left without its text it would read as "the device gave no value".
      if (
        table === 'obs' &&
        (r as unknown as RowOfTable['obs']).value_text !== null &&
        (r as unknown as RowOfTable['obs']).value_number === null
      )
        continue;
      const shift = this.shiftUs(r.binding.patient);
      const x = {
        ...r,
        binding: this.binding(r.binding),
        gateway: this.pseudonym('gateway', `${r.site}/${r.gateway}`),
        device: this.pseudonym('device', `${r.site}/${r.gateway}/${r.device}`),
        t_us: r.t_us + shift,
      } as unknown as Bound<RowOfTable[T]> & Record<string, unknown>;
      for (const f of [
        'gateway_time_us',
        'device_time_us',
        'from_time_us',
        'to_time_us',
        'last_frame_time_us',
      ] as const) {
        if (typeof x[f] === 'number' && (x[f] as number) !== 0) x[f] = (x[f] as number) + shift;
      }
      if (table === 'obs')
        Object.assign(x, { value_text: null, value_code_text: x['value_code_text'] === null ? null : '' });
      if (table === 'alarm')
        Object.assign(x, {
          alarm_text: '',
          facets: JSON.stringify(
            (JSON.parse(x['facets'] as string) as Record<string, unknown>[]).map((f) => ({ ...f, value: '' })),
          ),
        });
      if (table === 'status') Object.assign(x, { diagnosis: '' });
      out.push(x);
    }
    return out;
  }
}
