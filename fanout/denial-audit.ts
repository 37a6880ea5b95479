// Refused subscriptions in the access audit, aggregated per user and window (issue 14 finding 7: one client wrote
// 198k `denied` entries in 12 s, the audit's write queue passed its bound and other users' logins failed). The first
// refusal of a user in a window is written as it happens, with its bed; the rest of that window become one entry at
// its end: `count` refusals, a sample of the beds asked for. Nothing is lost from the count; the table of users is
// bounded (the oldest window is written early when it is full).
import type { AuditLog } from './audit.js';

export interface Denial {
  user: string;
  site: string;
  gateway: string;
  device: string;
  remote: string;
  session: string;
}

export interface DenialAudit {
  deny(d: Denial): void;
  /** Writes the windows that have ended (called from the fan-out's housekeeping, and at close). */
  flush(all?: boolean): void;
  /** Refusals counted in windows not yet written. */
  readonly pending: number;
}

export interface DenialLimits {
  windowMs: number;
  /** Beds named in an aggregated entry (a sample: the count says how many refusals there were). */
  sampleBeds: number;
  maxUsers: number;
}

export const DEFAULT_DENIAL_LIMITS: DenialLimits = { windowMs: 60_000, sampleBeds: 8, maxUsers: 10_000 };

interface Window {
  startMs: number;
  /** Refusals after the first one of the window (which was written at once). */
  count: number;
  beds: Set<string>;
  remote: string;
  session: string;
}

export function createDenialAudit(
  audit: AuditLog,
  l: DenialLimits = DEFAULT_DENIAL_LIMITS,
  now: () => number = Date.now,
): DenialAudit {
  const windows = new Map<string, Window>();
  let pending = 0;
  /** Writes a window's aggregate; false when the audit cannot take it now (it is kept and tried again). */
  const write = (user: string, w: Window): boolean => {
    if (w.count === 0) return true;
    const ok = audit.append({
      event: 'denied',
      user,
      count: w.count,
      beds: [...w.beds],
      since: new Date(w.startMs).toISOString(),
      remote: w.remote,
      session: w.session,
    });
    if (ok) pending -= w.count;
    return ok;
  };
  return {
    get pending() {
      return pending;
    },
    deny(d) {
      const t = now();
      let w = windows.get(d.user);
      if (w !== undefined && t - w.startMs >= l.windowMs && write(d.user, w)) {
        windows.delete(d.user);
        w = undefined;
      }
      if (w === undefined) {
        if (windows.size >= l.maxUsers) {
          const [oldUser, oldest] = windows.entries().next().value as [string, Window];
          if (write(oldUser, oldest)) windows.delete(oldUser);
        }
        windows.set(d.user, { startMs: t, count: 0, beds: new Set(), remote: d.remote, session: d.session });
        // The first refusal of a window is written as it happens, bed and all.
        audit.append({
          event: 'denied',
          user: d.user,
          site: d.site,
          gateway: d.gateway,
          device: d.device,
          remote: d.remote,
          session: d.session,
        });
        return;
      }
      w.count++;
      pending++;
      if (w.beds.size < l.sampleBeds) w.beds.add(`${d.site}/${d.gateway}/${d.device}`);
    },
    flush(all = false) {
      const t = now();
      for (const [user, w] of windows) {
        if (!all && t - w.startMs < l.windowMs) continue;
        if (write(user, w)) windows.delete(user);
      }
    },
  };
}
