// The beds the fan-out has seen: ids and labels from each device's Batches (the Source is read, nothing else), for
// the bed lists dashboards get. Bounded; ids starting with '_' are pseudo-devices (the gateway's own `_gateway`
// status stream), not beds.
import type { BedInfo } from './protocol.js';
import { readSource, type BatchHeader } from './wire.js';

interface Known extends BedInfo {
  /** Source lengths already read: a device's streams carry a few Source variants (waves may lack the model). */
  sourceLens: number[];
}

export interface BedIds {
  bed: string;
  site: string;
  gateway: string;
  device: string;
}

export class BedRegistry {
  private readonly beds = new Map<string, Known>();

  constructor(private readonly maxBeds: number) {}

  get size(): number {
    return this.beds.size;
  }

  label(key: string): string {
    return this.beds.get(key)?.label ?? '';
  }

  /** Notes a Batch's Source; returns the bed when it is new or its label or model changed (to announce), else null. */
  note(t: BedIds, payload: Uint8Array, h: BatchHeader): BedInfo | null {
    if (t.device.startsWith('_')) return null;
    const known = this.beds.get(t.bed);
    const len = h.sourceEnd - h.sourceStart;
    if (known !== undefined && known.sourceLens.includes(len)) return null;
    if (known === undefined && this.beds.size >= this.maxBeds) return null;
    const src = readSource(payload, h);
    const label = src.bed || known?.label || '';
    const model = src.model || known?.model || '';
    if (known !== undefined) {
      if (known.sourceLens.length < 8) known.sourceLens.push(len);
      if (known.label === label && known.model === model) return null;
      known.label = label;
      known.model = model;
      return publicBed(known);
    }
    const info: Known = { key: t.bed, site: t.site, gateway: t.gateway, device: t.device, label, model, sourceLens: [len] };
    this.beds.set(t.bed, info);
    return publicBed(info);
  }

  /** The beds a predicate (a session scope) lets through. */
  list(visible: (b: BedInfo) => boolean): BedInfo[] {
    const out: BedInfo[] = [];
    for (const b of this.beds.values()) if (visible(b)) out.push(publicBed(b));
    return out;
  }
}

function publicBed(b: BedInfo): BedInfo {
  return { key: b.key, site: b.site, gateway: b.gateway, device: b.device, label: b.label, model: b.model };
}
