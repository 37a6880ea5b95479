// The access audit: an append-only log of who opened which bed when. One JSON object per line in
// `<dir>/audit-YYYY-MM-DD.jsonl` (UTC day), files opened O_APPEND with mode 0600 and never rewritten. Entries carry
// ids and labels (user, site, gateway, device, bed label, remote address), never clinical values. Writing is
// fail-closed: while the log cannot take an entry, `append` returns false and the fan-out refuses what it would
// have recorded (VW_ERR_AUDIT_UNAVAILABLE).
import { createReadStream, createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const AUDIT_EVENTS = ['login', 'login_failed', 'open', 'close', 'denied'] as const;
export type AuditEventName = (typeof AUDIT_EVENTS)[number];

export interface AuditEntry {
  /** ISO 8601 UTC time */
  t: string;
  event: AuditEventName;
  user: string;
  site?: string;
  gateway?: string;
  device?: string;
  /** bed label as the gateway published it */
  bed?: string;
  remote?: string;
  /** session token id (jti), to tell one user's tabs apart */
  session?: string;
  /** The beds an entry stands for (`site/gateway/device`): those a ward view showed, or a sample of refused ones. */
  beds?: string[];
  /** Beds shown beyond the `beds` list's bound (a ward view). */
  bedsOmitted?: number;
  /** An aggregated entry: this many events since `since` (refused subscriptions of one user in one window). */
  count?: number;
  since?: string;
}

/** The most beds one entry names; a ward view of more says how many it left out (`bedsOmitted`). */
export const MAX_AUDIT_BEDS = 256;

export interface AuditLog {
  /** Records one entry; false when the log cannot take it now (the caller refuses the action). */
  append(e: Omit<AuditEntry, 't'>): boolean;
  readonly available: boolean;
  /** Bytes accepted and not yet written (the queue whose bound makes the log unavailable). */
  readonly pendingBytes: number;
  close(): Promise<void>;
}

export interface FileAuditOptions {
  dir: string;
  now?: () => number;
  /** Bytes waiting to be written beyond which appends are refused. */
  maxPendingBytes?: number;
  /** After a write error, how long before a new file handle is tried. */
  retryMs?: number;
  onError?: (err: Error) => void;
}

const day = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const FILE = /^audit-(\d{4}-\d{2}-\d{2})\.jsonl$/;

export function createFileAuditLog(o: FileAuditOptions): AuditLog {
  const now = o.now ?? Date.now;
  const maxPending = o.maxPendingBytes ?? 1 << 20;
  const retryMs = o.retryMs ?? 5000;
  mkdirSync(o.dir, { recursive: true, mode: 0o700 });
  let stream: WriteStream | null = null;
  let streamDay = '';
  let brokenUntil = 0;
  const open = (d: string): WriteStream => {
    const s = createWriteStream(join(o.dir, `audit-${d}.jsonl`), { flags: 'a', mode: 0o600 });
    s.on('error', (err) => {
      o.onError?.(err);
      if (stream === s) {
        stream = null;
        brokenUntil = now() + retryMs;
      }
      s.destroy();
    });
    return s;
  };
  return {
    get available() {
      return now() >= brokenUntil && (stream === null || stream.writableLength <= maxPending);
    },
    get pendingBytes() {
      return stream?.writableLength ?? 0;
    },
    append(e) {
      const t = now();
      if (t < brokenUntil) return false;
      const d = day(t);
      if (stream === null || streamDay !== d) {
        stream?.end();
        stream = open(d);
        streamDay = d;
      }
      if (stream.writableLength > maxPending) return false;
      stream.write(`${JSON.stringify({ t: new Date(t).toISOString(), ...e })}\n`);
      return true;
    },
    async close() {
      const s = stream;
      stream = null;
      if (s && !s.destroyed) await new Promise<void>((resolve) => s.end(() => resolve()));
    },
  };
}

/** An in-memory audit for tests and embedded use: the newest `max` entries. */
export function createMemoryAuditLog(max = 10_000, now: () => number = Date.now): AuditLog & { entries: AuditEntry[] } {
  const entries: AuditEntry[] = [];
  return {
    entries,
    available: true,
    pendingBytes: 0,
    append(e) {
      entries.push({ t: new Date(now()).toISOString(), ...e });
      if (entries.length > max) entries.splice(0, entries.length - max);
      return true;
    },
    async close() {},
  };
}

export interface AuditQuery {
  user?: string;
  /** site, site/gateway or site/gateway/device */
  bed?: string;
  event?: AuditEventName;
  since?: Date;
  until?: Date;
}

export function matchesAudit(e: AuditEntry, q: AuditQuery): boolean {
  if (q.user !== undefined && e.user !== q.user) return false;
  if (q.event !== undefined && e.event !== q.event) return false;
  if (q.bed !== undefined) {
    const bed = q.bed;
    const hit = (key: string): boolean => key === bed || key.startsWith(`${bed}/`);
    const key = [e.site, e.gateway, e.device].filter((s) => s !== undefined).join('/');
    // A ward view's entry, or an aggregate of refusals, names its beds in `beds`.
    if (!hit(key) && !(Array.isArray(e.beds) && e.beds.some((b) => typeof b === 'string' && hit(b)))) return false;
  }
  const t = Date.parse(e.t);
  if (q.since && !(t >= q.since.getTime())) return false;
  if (q.until && !(t < q.until.getTime())) return false;
  return true;
}

/** Entries of the audit files in `dir` matching the query, oldest first. Unreadable lines are skipped and counted. */
export async function* queryAudit(dir: string, q: AuditQuery, stats = { badLines: 0 }): AsyncGenerator<AuditEntry> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const files = names.filter((n) => FILE.test(n)).sort();
  for (const name of files) {
    const d = FILE.exec(name)?.[1] ?? '';
    // A file holds one UTC day: skip days wholly outside the range without reading them.
    if (q.since && d < day(q.since.getTime())) continue;
    if (q.until && d > day(q.until.getTime())) continue;
    const rl = createInterface({ input: createReadStream(join(dir, name), { encoding: 'utf8' }), crlfDelay: Infinity });
    for await (const line of rl) {
      if (line.trim() === '') continue;
      let e: AuditEntry;
      try {
        e = JSON.parse(line) as AuditEntry;
        if (typeof e.t !== 'string' || typeof e.user !== 'string' || typeof e.event !== 'string')
          throw new Error('shape');
      } catch {
        stats.badLines++;
        continue;
      }
      if (matchesAudit(e, q)) yield e;
    }
  }
}
