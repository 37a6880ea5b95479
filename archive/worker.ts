// The central's archive: the journal in the broker's thread (append, group commit, fdatasync: what the PUBACK waits
// for), everything else in a worker thread (loader-worker.ts): decoding, the store's writes, checkpoints, merges,
// retention, and the queries of the FHIR endpoint and the dashboard's trends. `store` here is a proxy whose queries
// run in the worker; structured clone carries the rows back.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { VitalwireError } from '../decoders/errors.js';
import type { Logger } from '../lib/log.js';
import { DEFAULT_TUNING, lockDir, openJournal, runArchive, type Archive, type ArchiveTuning, type LoadBackend } from './archive.js';
import type { AuditEntry, AuditLog } from './audit.js';
import type { ArchiveConfig } from './config.js';
import { newCounters } from './loader.js';
import type { Reply, Request, WorkerData } from './loader-worker.js';
import { fromMarker } from './sql-marker.js';
import type { PurgeReport, SqlRunner, ArchiveStore } from './store/types.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

/** Pino's level numbers (the worker logs through this thread's logger). */
const LEVEL: Record<number, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/** The worker's entry: compiled JavaScript in dist/, the TypeScript source (through tsx) under the test runner. */
function startWorker(data: WorkerData): Worker {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    const entry = new URL('./loader-worker.ts', here).href;
    // tsx's ESM entry, as its package.json exports it (worker threads do not inherit the parent's loader).
    const pkgPath = createRequire(here).resolve('tsx/package.json');
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
    const tsx = pathToFileURL(join(dirname(pkgPath), pkg.exports['./esm/api']?.import.default ?? '')).href;
    return new Worker(`import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`, { eval: true, workerData: data });
  }
  return new Worker(new URL('./loader-worker.js', here), { workerData: data });
}

export interface WorkerArchiveOptions {
  config: ArchiveConfig;
  logger: Logger;
  tuning: ArchiveTuning;
  /** Niceness of the loader's thread (0 to 19): how far the broker's thread goes first on a busy machine. */
  nice: number;
}

export async function openWorkerArchive(o: WorkerArchiveOptions): Promise<Archive> {
  const log = o.logger.child({ component: 'archive' });
  const tuning: ArchiveTuning = { ...DEFAULT_TUNING, ...o.tuning };
  const dataDir = o.config.dataDir;
  const release = await lockDir(dataDir);
  let journal;
  try {
    journal = await openJournal(dataDir, tuning, log, false);
  } catch (err) {
    await release();
    throw err;
  }
  const worker = startWorker({
    config: o.config, logLevel: typeof log.level === 'string' ? log.level : 'info', nice: o.nice,
    tuning: { loadBatchSize: tuning.loadBatchSize, checkpointIntervalMs: tuning.checkpointIntervalMs, checkpointRows: tuning.checkpointRows },
  });
  const counters = newCounters();
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let exited: Error | null = null;
  let readyInfo: { name: ArchiveStore['name']; durableOnWrite: boolean } | null = null;
  let onReady: { resolve: () => void; reject: (e: Error) => void } | null = null;
  const ready = new Promise<void>((resolve, reject) => (onReady = { resolve, reject }));

  worker.on('message', (m: Reply) => {
    switch (m.op) {
      case 'ready':
        readyInfo = { name: m.name, durableOnWrite: m.durableOnWrite };
        onReady?.resolve();
        return;
      case 'failed':
        onReady?.reject(new VitalwireError(m.code === 'VW_ERR_CONFIG' ? 'VW_ERR_CONFIG' : 'VW_ERR_ARCHIVE_STORE', m.message));
        return;
      case 'log': {
        const { level, msg, ...rest } = m.entry;
        log[LEVEL[level as number] ?? 'info'](rest, typeof msg === 'string' ? msg : '');
        return;
      }
      case 'reply': {
        // The loader's loadErrors are this thread's (a failed load is counted where it is retried).
        const loadErrors = counters.loadErrors;
        Object.assign(counters, m.counters, { loadErrors });
        const p = pending.get(m.id);
        pending.delete(m.id);
        if (!p) return;
        if (m.ok) p.resolve(m.value);
        else p.reject(Object.assign(new Error(m.message), m.code ? { code: m.code } : {}));
      }
    }
  });
  worker.on('error', (err) => log.error({ code: 'VW_ERR_ARCHIVE_STORE', err: err.message }, 'archive worker failed'));
  worker.on('exit', (code) => {
    exited = new VitalwireError('VW_ERR_ARCHIVE_STORE', `archive worker exited (${code})`);
    onReady?.reject(exited);
    for (const p of pending.values()) p.reject(exited);
    pending.clear();
  });

  const call = <T>(req: DistributiveOmit<Request, 'id'>): Promise<T> => {
    if (exited) return Promise.reject(exited);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ ...req, id });
    });
  };

  try {
    await ready;
  } catch (err) {
    await journal.close();
    await release();
    throw err;
  }
  const info = readyInfo as unknown as { name: ArchiveStore['name']; durableOnWrite: boolean };
  const sql: SqlRunner = {
    // The relation is the worker's to name (the embedded store's list of files lives there): a marker it replaces.
    from: (table, range) => fromMarker(table, range),
    bucket: (col, p) => (info.name === 'postgres' ? `((${col} / ${p}) * ${p})` : `((${col} // ${p}) * ${p})`),
    all: (text, params = []) => call<Record<string, unknown>[]>({ op: 'sql', text, params: [...params] }),
  };
  const audit: AuditLog = {
    list: (actions) => call<AuditEntry[]>({ op: 'audit.list', ...(actions ? { actions: [...actions] } : {}) }),
    append: (entry) => call<AuditEntry>({ op: 'audit.append', entry }),
    exclusive: () => Promise.reject(new Error('audit.exclusive runs beside the store (vitalwire bind), not through the central')),
    close: async () => undefined,
  };
  const store: ArchiveStore = {
    name: info.name,
    durableOnWrite: info.durableOnWrite,
    sql,
    audit,
    write: () => Promise.reject(new Error('the central writes through its journal (append), not store.write')),
    checkpoint: () => call<void>({ op: 'checkpoint' }),
    purge: (kind, beforeUs) => call<PurgeReport>({ op: 'purge', kind, beforeUs }),
    close: async () => undefined,
  };
  const backend: LoadBackend = {
    store,
    counters,
    load: (segments, force) => call<number[]>({ op: 'load', segments: [...segments], force }),
    async close() {
      if (!exited) {
        await call({ op: 'close' }).catch(() => undefined);
        await worker.terminate();
      }
    },
  };
  return runArchive({ journal, backend, tuning, log, readOnly: false, release });
}
