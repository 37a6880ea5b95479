// Rate-limited logging for events a peer can trigger at will (bad frames, refused connections, oversize messages):
// one garbled serial line or one scanner on the MLLP port must not fill the disk with log lines (issue 14: 16.5 MB in
// 16 s). Per key (say, device and error code) the first event of an interval is logged as it is; the rest are only
// counted, and one line with their number follows when the interval ends. Counters elsewhere stay exact: this module
// only decides what reaches the log. The central side uses it for its own floods.
import type { Logger } from './log.js';

export type LimitedLevel = 'error' | 'warn' | 'info' | 'debug';

export interface LogLimiterOptions {
  logger: Logger;
  /** Length of an interval: at most two lines per key in each (the first event, then the count of the rest). */
  intervalMs?: number;
  /** Keys tracked at once; events of further keys are counted under one overflow line. */
  maxKeys?: number;
  /** Milliseconds clock (tests). */
  nowMs?: () => number;
}

export interface LogLimiter {
  /**
   * One event. `fields` name it (device, code, peer, counts): never patient data. Logged at once when it is the first of
   * its key in the interval; otherwise counted, and reported with `suppressed` when the interval ends.
   */
  log(key: string, level: LimitedLevel, fields: Record<string, unknown>, msg: string): void;
  /** Events counted and not yet reported, over all keys. */
  pending(): number;
  /** Reports every count now (shutdown). */
  flush(): void;
  /** Flushes and stops the timer. */
  close(): void;
}

export const LOG_LIMIT_INTERVAL_MS = 10_000;
export const LOG_LIMIT_MAX_KEYS = 256;
/** The key that collects events of keys beyond maxKeys. */
export const OVERFLOW_KEY = '(other)';

interface Entry {
  since: number;
  suppressed: number;
  level: LimitedLevel;
  fields: Record<string, unknown>;
  msg: string;
}

export function createLogLimiter(o: LogLimiterOptions): LogLimiter {
  const interval = o.intervalMs ?? LOG_LIMIT_INTERVAL_MS;
  const maxKeys = o.maxKeys ?? LOG_LIMIT_MAX_KEYS;
  const now = o.nowMs ?? Date.now;
  const entries = new Map<string, Entry>();
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  const report = (e: Entry, seconds: number) => {
    o.logger[e.level](
      { ...e.fields, suppressed: e.suppressed, intervalS: seconds },
      `${e.msg} (${e.suppressed} more in ${seconds} s, not logged one by one)`,
    );
  };

  /** Reports and forgets every entry whose interval has ended (all of them when `all`). */
  const sweep = (all: boolean) => {
    const t = now();
    for (const [key, e] of entries) {
      if (!all && t - e.since < interval) continue;
      if (e.suppressed > 0) report(e, Math.max(1, Math.round((t - e.since) / 1000)));
      entries.delete(key);
    }
  };

  const arm = () => {
    if (timer || closed) return;
    timer = setTimeout(() => {
      timer = null;
      sweep(false);
      if ([...entries.values()].some((e) => e.suppressed > 0)) arm();
    }, interval);
    timer.unref();
  };

  return {
    log(key, level, fields, msg) {
      let k = key;
      let e = entries.get(k);
      if (e && now() - e.since >= interval) {
        // The interval ended and the timer has not run yet: report it, this event opens a new one.
        if (e.suppressed > 0) report(e, Math.max(1, Math.round((now() - e.since) / 1000)));
        entries.delete(k);
        e = undefined;
      }
      if (!e && entries.size >= maxKeys) {
        k = OVERFLOW_KEY;
        e = entries.get(k);
        fields = { keys: `more than ${maxKeys}` };
        msg = 'further events of other kinds';
      }
      if (!e) {
        entries.set(k, { since: now(), suppressed: 0, level, fields, msg });
        o.logger[level](fields, msg);
        return;
      }
      e.suppressed++;
      arm();
    },
    pending() {
      let n = 0;
      for (const e of entries.values()) n += e.suppressed;
      return n;
    },
    flush() {
      sweep(true);
    },
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = null;
      sweep(true);
    },
  };
}
