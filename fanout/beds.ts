// The beds the fan-out has seen: ids and labels from each device's Batches (the Source is read, nothing else), for
// the bed lists dashboards get, and the admission of new devices (issue 14 finding 4: one gateway announcing empty
// Batches for thousands of devices filled a global list and hid other sites' new beds). Each gateway may bring at
// most maxBedsPerGateway devices and each site maxBedsPerSite; a device beyond its quota is refused whole (not
// listed, not kept, not delivered). A device not heard from for bedExpiryMs leaves the list and frees its place.
// Ids starting with '_' are pseudo-devices (the gateway's own `_gateway` status stream): they count against the
// quota (their streams cost the same) but are not beds.
import type { BedInfo } from './protocol.js';
import { readSource, type BatchHeader } from './wire.js';

export interface BedLimits {
  /** Devices one gateway may bring (a hospital ward's gateway serves tens). */
  maxBedsPerGateway: number;
  /** Devices of all gateways of one site. */
  maxBedsPerSite: number;
  /** Devices of all sites (a bound of memory). */
  maxBeds: number;
  /** A device with no Batch for this long leaves the lists (its tile goes) and its place is freed. */
  bedExpiryMs: number;
  /** How often expired devices are looked for. */
  sweepMs: number;
}

export const DEFAULT_BED_LIMITS: BedLimits = {
  maxBedsPerGateway: 256,
  maxBedsPerSite: 2048,
  maxBeds: 65_536,
  bedExpiryMs: 12 * 3600_000,
  sweepMs: 10_000,
};

interface Known extends BedInfo {
  /** Source lengths already read: a device's streams carry a few Source variants (waves may lack the model). */
  sourceLens: number[];
  lastSeenMs: number;
}

export interface BedIds {
  bed: string;
  site: string;
  gateway: string;
  device: string;
}

/** 'quota': the device is new and its gateway, site or the whole list is full. */
export type Admission = 'known' | 'new' | 'quota';

export class BedRegistry {
  private readonly beds = new Map<string, Known>();
  private readonly perGateway = new Map<string, number>();
  private readonly perSite = new Map<string, number>();

  constructor(private readonly limits: BedLimits) {}

  get size(): number {
    return this.beds.size;
  }

  label(key: string): string {
    return this.beds.get(key)?.label ?? '';
  }

  /** Admits a device's Batch: a known device is noted as heard from; a new one takes a place if its quotas allow. */
  admit(t: BedIds, nowMs: number): Admission {
    const known = this.beds.get(t.bed);
    if (known !== undefined) {
      known.lastSeenMs = nowMs;
      return 'known';
    }
    const gw = `${t.site}/${t.gateway}`;
    if (
      (this.perGateway.get(gw) ?? 0) >= this.limits.maxBedsPerGateway ||
      (this.perSite.get(t.site) ?? 0) >= this.limits.maxBedsPerSite ||
      this.beds.size >= this.limits.maxBeds
    )
      return 'quota';
    this.beds.set(t.bed, {
      key: t.bed,
      site: t.site,
      gateway: t.gateway,
      device: t.device,
      label: '',
      model: '',
      sourceLens: [],
      lastSeenMs: nowMs,
    });
    this.perGateway.set(gw, (this.perGateway.get(gw) ?? 0) + 1);
    this.perSite.set(t.site, (this.perSite.get(t.site) ?? 0) + 1);
    return 'new';
  }

  /**
   * Reads an admitted device's Source; returns the bed when it is to be announced (new, or its label or model
   * changed), else null. Pseudo-devices are never announced.
   */
  note(t: BedIds, payload: Uint8Array, h: BatchHeader, isNew: boolean): BedInfo | null {
    const known = this.beds.get(t.bed);
    if (known === undefined || t.device.startsWith('_')) return null;
    const len = h.sourceEnd - h.sourceStart;
    if (known.sourceLens.includes(len)) return isNew ? publicBed(known) : null;
    const src = readSource(payload, h);
    const label = src.bed || known.label;
    const model = src.model || known.model;
    if (known.sourceLens.length < 8) known.sourceLens.push(len);
    if (!isNew && known.label === label && known.model === model) return null;
    known.label = label;
    known.model = model;
    return publicBed(known);
  }

  /** Forgets devices not heard from for bedExpiryMs; returns them. */
  expire(nowMs: number): BedInfo[] {
    const gone: BedInfo[] = [];
    for (const [key, b] of this.beds) {
      if (nowMs - b.lastSeenMs < this.limits.bedExpiryMs) continue;
      this.beds.delete(key);
      const gw = `${b.site}/${b.gateway}`;
      const n = (this.perGateway.get(gw) ?? 1) - 1;
      if (n > 0) this.perGateway.set(gw, n);
      else this.perGateway.delete(gw);
      const m = (this.perSite.get(b.site) ?? 1) - 1;
      if (m > 0) this.perSite.set(b.site, m);
      else this.perSite.delete(b.site);
      if (!b.device.startsWith('_')) gone.push(publicBed(b));
    }
    return gone;
  }

  /** The beds a predicate (a session scope) lets through. */
  list(visible: (b: BedInfo) => boolean): BedInfo[] {
    const out: BedInfo[] = [];
    for (const b of this.beds.values()) if (!b.device.startsWith('_') && visible(b)) out.push(publicBed(b));
    return out;
  }
}

function publicBed(b: BedInfo): BedInfo {
  return { key: b.key, site: b.site, gateway: b.gateway, device: b.device, label: b.label, model: b.model };
}
