// The archive's audit store: append-only, one entry per change of who-is-in-which-bed (binding.set, binding.end), per
// retention purge, per export and per search of the FHIR API (record.read), each saying who did it, when, and from what to what. Bindings are not kept anywhere
// else: the binding state is the fold of these entries (bindings.ts), so the record of changes and the state cannot
// disagree. It holds patient identifiers, so it is a data store (mode 0600), never a log.
//
// The file form (embedded store): <dir>/audit.jsonl, one JSON object per line, appended and fdatasynced per entry. An
// exclusive section (a lock file holding the owner's pid; a dead owner's lock is taken over) lets `vitalwire bind` and
// a running central read, check and append without racing each other.
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { takeLock } from '../lib/pid-lock.js';
import { VitalwireError } from '../lib/errors.js';

export const AUDIT_ACTIONS = ['binding.set', 'binding.end', 'retention.purge', 'export', 'record.read'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditEntry {
  /** Position in the log, from 1. */
  n: number;
  /** ISO 8601 UTC time of the change. */
  at: string;
  /** Who: a user name (CLI: --by, else the OS user), or 'system' for the retention job. */
  actor: string;
  action: AuditAction;
  /** What the entry is about: a binding id, a data kind, an export's format. */
  subject: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

export type AuditInput = Omit<AuditEntry, 'n' | 'at'> & { at?: string };

export interface AuditReader {
  /** Every entry, in order (optionally of some actions only). */
  list(actions?: readonly AuditAction[]): Promise<AuditEntry[]>;
}

export interface AuditTx extends AuditReader {
  /** Appends one entry durably; resolves with it as stored. */
  append(e: AuditInput): Promise<AuditEntry>;
}

export interface AuditLog extends AuditTx {
  /** Runs fn with no other writer of this audit (in this process or another) between its reads and its appends. */
  exclusive<T>(fn: (tx: AuditTx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface FileAuditOptions {
  dir: string;
  now?: () => number;
  /** Longest wait for another process's exclusive section. */
  lockTimeoutMs?: number;
}

export function openFileAudit(o: FileAuditOptions): AuditLog {
  const path = join(o.dir, 'audit.jsonl');
  const lockPath = join(o.dir, 'audit.lock');
  const now = o.now ?? Date.now;
  let chain: Promise<unknown> = Promise.resolve();
  let count: number | null = null;

  const read = async (): Promise<AuditEntry[]> => {
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const out: AuditEntry[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        out.push(JSON.parse(line) as AuditEntry);
      } catch {
        // A line cut by a crash mid-write: never acknowledged (append resolves after the fdatasync).
      }
    }
    count = out.length;
    return out;
  };

  const lock = async (): Promise<() => Promise<void>> => {
    const r = await takeLock(lockPath, o.lockTimeoutMs ?? 10_000);
    if (typeof r === 'function') return r;
    throw new VitalwireError('VW_ERR_BINDING', `audit store ${o.dir} is locked by process ${r.heldBy}`);
  };

  const tx: AuditTx = {
    async append(e) {
      if (count === null) await read();
      const entry: AuditEntry = {
        n: (count ?? 0) + 1,
        at: e.at ?? new Date(now()).toISOString(),
        actor: e.actor,
        action: e.action,
        subject: e.subject,
        before: e.before,
        after: e.after,
      };
      const fh = await open(path, 'a', 0o600);
      try {
        await fh.write(`${JSON.stringify(entry)}\n`);
        await fh.datasync();
      } finally {
        await fh.close();
      }
      count = entry.n;
      return entry;
    },
    async list(actions) {
      const all = await read();
      return actions ? all.filter((e) => actions.includes(e.action)) : all;
    },
  };
  const exclusive = <T>(fn: (t: AuditTx) => Promise<T>): Promise<T> => {
    const run = chain.then(async () => {
      const release = await lock();
      try {
        await read(); // another process may have appended since
        return await fn(tx);
      } finally {
        await release();
      }
    });
    chain = run.catch(() => undefined);
    return run;
  };
  return {
    append: (e) => exclusive((t) => t.append(e)),
    list: tx.list,
    exclusive,
    async close() {
      await chain;
    },
  };
}
