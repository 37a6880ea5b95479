// The access audit of one connection's ward view (docs/dashboard.md, Audit): ward tiles (obsLatest subscriptions) are
// audited per burst, not per tile. The tiles a page subscribes together make one `open` entry of the ward view naming
// them (`beds`); the `close`, when the last tile goes, names every bed the view showed. Bounded by MAX_AUDIT_BEDS,
// the rest counted. Pure bookkeeping: the hub writes the entries and decides when.
import { MAX_AUDIT_BEDS, type AuditEntry } from './audit.js';

/** Audit `bed` of the entries a ward view writes. */
export const WARD_AUDIT_BED = 'ward view';
/** Tiles subscribed within this long of the first one share one ward-view entry (a page sends them in one burst). */
export const WARD_AUDIT_COALESCE_MS = 100;

type Who = Pick<AuditEntry, 'user' | 'remote' | 'session'>;

export class WardAudit {
  /** Beds subscribed as ward tiles now. */
  readonly tiles = new Set<string>();
  /** Tiles not yet in an entry. */
  private pending: string[] = [];
  private readonly shown = new Set<string>();
  private omitted = 0;
  /** An entry for the pending tiles is due (the hub has scheduled it). */
  scheduled = false;

  get hasPending(): boolean {
    return this.pending.length > 0;
  }

  /** A tile subscribed. True when no entry is scheduled yet for this burst (the caller schedules one). */
  add(bed: string): boolean {
    this.tiles.add(bed);
    this.pending.push(bed);
    if (this.shown.size < MAX_AUDIT_BEDS) this.shown.add(bed);
    else if (!this.shown.has(bed)) this.omitted++;
    if (this.scheduled) return false;
    this.scheduled = true;
    return true;
  }

  /** The `open` entry of the pending tiles (null when none), and those tiles. */
  takeOpen(who: Who): { entry: Omit<AuditEntry, 't'>; beds: string[] } | null {
    this.scheduled = false;
    const beds = this.pending;
    this.pending = [];
    if (beds.length === 0) return null;
    return {
      beds,
      entry: {
        event: 'open',
        bed: WARD_AUDIT_BED,
        beds: beds.slice(0, MAX_AUDIT_BEDS),
        ...(beds.length > MAX_AUDIT_BEDS ? { bedsOmitted: beds.length - MAX_AUDIT_BEDS } : {}),
        ...who,
      },
    };
  }

  /** A tile whose entry could not be written: it was never shown. */
  forget(bed: string): boolean {
    this.shown.delete(bed);
    return this.tiles.delete(bed);
  }

  /** The `close` entry once the last tile has gone: every bed the view showed. Starts the next view afresh. */
  takeClose(who: Who): Omit<AuditEntry, 't'> {
    const entry = {
      event: 'close' as const,
      bed: WARD_AUDIT_BED,
      beds: [...this.shown],
      ...(this.omitted > 0 ? { bedsOmitted: this.omitted } : {}),
      ...who,
    };
    this.shown.clear();
    this.omitted = 0;
    return entry;
  }
}
