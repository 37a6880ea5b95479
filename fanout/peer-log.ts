// Log lines a peer can trigger (a refused login, a refused subscription, a refused upgrade, a bad message...) are
// rate-limited per event (issue 14 finding 7: 198k warnings in 12 s from one client). Each event may log
// `perWindow` lines per `windowMs`; beyond that its lines are counted, and when the window ends one line says how
// many were suppressed. Event names are the fan-out's own (a fixed set), so the table is bounded.
import type { Logger } from '../lib/log.js';

export interface PeerLog {
  warn(event: string, fields: Record<string, unknown>, msg: string): void;
  info(event: string, fields: Record<string, unknown>, msg: string): void;
  /** Logs the suppressed counts of windows that have ended (called from the fan-out's housekeeping). */
  flush(): void;
  /** Lines suppressed so far, all events. */
  readonly suppressed: number;
}

export interface PeerLogLimits {
  perWindow: number;
  windowMs: number;
}

export const DEFAULT_PEER_LOG_LIMITS: PeerLogLimits = { perWindow: 20, windowMs: 60_000 };

interface Window {
  startMs: number;
  logged: number;
  suppressed: number;
  level: 'warn' | 'info';
}

export function createPeerLog(
  log: Logger,
  l: PeerLogLimits = DEFAULT_PEER_LOG_LIMITS,
  now: () => number = Date.now,
): PeerLog {
  const windows = new Map<string, Window>();
  let total = 0;
  const close = (event: string, w: Window): void => {
    if (w.suppressed > 0)
      log[w.level](
        { event, suppressed: w.suppressed, windowMs: l.windowMs },
        `${w.suppressed} more ${event} lines suppressed`,
      );
  };
  const line = (level: 'warn' | 'info', event: string, fields: Record<string, unknown>, msg: string): void => {
    const t = now();
    let w = windows.get(event);
    if (w !== undefined && t - w.startMs >= l.windowMs) {
      close(event, w);
      w = undefined;
    }
    if (w === undefined) {
      w = { startMs: t, logged: 0, suppressed: 0, level };
      windows.set(event, w);
    }
    if (w.logged < l.perWindow) {
      w.logged++;
      log[level]({ event, ...fields }, msg);
      return;
    }
    w.suppressed++;
    total++;
  };
  return {
    warn: (event, fields, msg) => line('warn', event, fields, msg),
    info: (event, fields, msg) => line('info', event, fields, msg),
    flush() {
      const t = now();
      for (const [event, w] of windows) {
        if (t - w.startMs < l.windowMs) continue;
        close(event, w);
        windows.delete(event);
      }
    },
    get suppressed() {
      return total;
    },
  };
}

/** No limit: every line is logged (embedded use, tests of a single module). */
export function plainPeerLog(log: Logger): PeerLog {
  return {
    warn: (event, fields, msg) => log.warn({ event, ...fields }, msg),
    info: (event, fields, msg) => log.info({ event, ...fields }, msg),
    flush() {},
    suppressed: 0,
  };
}
