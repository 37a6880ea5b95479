// The central's archive: the journal in the broker's process (append, group commit, fdatasync: what the PUBACK waits
// for), everything else in a loader process (loader-process.ts) at a lower priority: decoding, the store's writes,
// checkpoints, merges, retention, and the queries of the FHIR endpoint and the dashboard's trends. A process rather
// than a worker thread: DuckDB's threads, V8's garbage-collector threads and libuv's pool are then all the loader's
// own and all lowered, and none of them competes with the broker's at its priority (measured: a worker thread alone
// lowered still cost the broker half its throughput on a busy two-core machine). `store` here is a proxy whose
// queries run there; the IPC channel carries rows by structured clone.
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { VitalwireError } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import {
  DEFAULT_TUNING,
  lockDir,
  openJournal,
  runArchive,
  type Archive,
  type ArchiveTuning,
  type LoadBackend,
} from './archive.js';
import type { AuditEntry, AuditLog } from './audit.js';
import type { ArchiveConfig } from './config.js';
import { newCounters } from './loader.js';
import type { LoaderInit, Reply, Request } from './loader-process.js';
import { fromMarker } from './sql-marker.js';
import type { PurgeReport, SqlRunner, ArchiveStore } from './store/types.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

/** How long a call waits for a loader that is being started again before it fails (and is retried by the caller). */
const RESTART_WAIT_MS = 30_000;

/** The loader process ended under a request: the request never completed there. */
class LoaderExit extends VitalwireError {
  constructor(detail: string) {
    super('VW_ERR_ARCHIVE_STORE', detail);
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** The first restart of a loader that died waits this long; each next one twice as long, up to RESTART_MAX_MS. */
const RESTART_MIN_MS = 500;
const RESTART_MAX_MS = 30_000;

/** Pino's level numbers (the loader logs through the central's logger). */
const LEVEL: Record<number, 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal'> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warn',
  50: 'error',
  60: 'fatal',
};

/** The loader's entry: compiled JavaScript in dist/, the TypeScript source (through tsx's loader) under the test runner. */
function startLoader(): ChildProcess {
  const here = import.meta.url;
  const opts = {
    serialization: 'advanced' as const,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'] as ('ignore' | 'inherit' | 'ipc')[],
  };
  if (here.endsWith('.ts')) {
    // tsx's loader, as its package.json exports it, so the child resolves it wherever it runs.
    const pkgPath = createRequire(here).resolve('tsx/package.json');
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports: Record<string, string> };
    const tsx = pathToFileURL(join(dirname(pkgPath), pkg.exports['.'] ?? '')).href;
    return fork(fileURLToPath(new URL('./loader-process.ts', here)), [], { ...opts, execArgv: ['--import', tsx] });
  }
  return fork(fileURLToPath(new URL('./loader-process.js', here)), [], { ...opts, execArgv: [] });
}

export interface LoaderArchiveOptions {
  config: ArchiveConfig;
  logger: Logger;
  tuning: ArchiveTuning;
  /** Niceness of the loader process (0 to 19): how far the broker goes first on a busy machine. */
  nice: number;
  /** Tests: stands in for this thread's event-loop utilization in the loader's pacing (archive.ts). */
  pacing?: { busy: () => number; paceMs: number };
}

export async function openLoaderArchive(o: LoaderArchiveOptions): Promise<Archive> {
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
  const init: LoaderInit = {
    config: o.config,
    logLevel: typeof log.level === 'string' ? log.level : 'info',
    nice: o.nice,
    tuning: {
      loadBatchSize: tuning.loadBatchSize,
      checkpointIntervalMs: tuning.checkpointIntervalMs,
      checkpointRows: tuning.checkpointRows,
    },
  };
  const counters = newCounters();
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let closing = false;
  let child: ChildProcess | null = null;
  let down: Error | null = new VitalwireError('VW_ERR_ARCHIVE_STORE', 'archive loader process starting');
  let restarts = 0;
  let restartTimer: NodeJS.Timeout | null = null;
  let readyInfo: { name: ArchiveStore['name']; durableOnWrite: boolean } | null = null;
  let everStarted = false;
  // Settled when the current loader is ready; a new one after each exit. Calls made while a loader is being
  // started again wait for it (up to RESTART_WAIT_MS) instead of failing at once: a flush rides through a restart.
  let ready = deferred();
  /** The pace asked for last: a loader started again is told it too. */
  let hold = false;

  /**
   * Starts the loader process; resolves once its store is open. One that dies later is started again, after a delay
   * that doubles up to RESTART_MAX_MS: meanwhile loads fail (and are retried) and the journal keeps every Batch; the
   * new loader loads whatever the old one had not made durable (the store keeps each Batch once).
   */
  const launch = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const c = startLoader();
      child = c;
      let started = false;
      c.on('message', (m: Reply) => {
        switch (m.op) {
          case 'ready':
            readyInfo = { name: m.name, durableOnWrite: m.durableOnWrite };
            started = true;
            everStarted = true;
            down = null;
            // Told only now: the loader listens for requests once its store is open, and drops what comes before.
            if (hold) c.send({ op: 'pace', id: 0, hold });
            ready.resolve();
            resolve();
            return;
          case 'failed':
            reject(
              new VitalwireError(m.code === 'VW_ERR_CONFIG' ? 'VW_ERR_CONFIG' : 'VW_ERR_ARCHIVE_STORE', m.message),
            );
            return;
          case 'log': {
            const { level, msg, ...rest } = m.entry;
            log[LEVEL[level as number] ?? 'info'](rest, typeof msg === 'string' ? msg : '');
            return;
          }
          case 'reply': {
            // Failed and deferred loads are counted here, where loads are started; the loader's other counters add up
            // across restarts.
            const { loadErrors, loadsDeferred, ...theirs } = m.counters;
            void loadErrors;
            void loadsDeferred;
            for (const [k, v] of Object.entries(theirs))
              counters[k as keyof typeof theirs] = (base[k as keyof typeof theirs] ?? 0) + v;
            const p = pending.get(m.id);
            pending.delete(m.id);
            if (!p) return;
            if (m.ok) p.resolve(m.value);
            else p.reject(Object.assign(new Error(m.message), m.code ? { code: m.code } : {}));
          }
        }
      });
      c.on('error', (err) =>
        log.error({ code: 'VW_ERR_ARCHIVE_STORE', err: err.message }, 'archive loader process failed'),
      );
      c.on('exit', (code, signal) => {
        down = new LoaderExit(`archive loader process exited (${signal ?? code})`);
        if (child === c) child = null;
        for (const p of pending.values()) p.reject(down);
        pending.clear();
        // What this loader counted stays counted.
        Object.assign(base, { ...counters });
        if (!started) reject(down);
        if (started) ready = deferred();
        // A loader that ran once is always started again, also after a restart that failed to start.
        if (closing || !everStarted) return;
        const delay = Math.min(RESTART_MIN_MS * 2 ** restarts++, RESTART_MAX_MS);
        log.error(
          { code: 'VW_ERR_ARCHIVE_STORE', exit: signal ?? code, restartMs: delay },
          'archive loader process exited: the journal keeps the data; starting it again',
        );
        restartTimer = setTimeout(() => {
          restartTimer = null;
          if (closing) return;
          launch().then(
            () => log.info({ restarts }, 'archive loader process running again'),
            (err: unknown) => {
              log.error(
                { code: 'VW_ERR_ARCHIVE_STORE', err: (err as Error).message },
                'archive loader process did not start',
              );
            },
          );
        }, delay);
      });
      c.send({ op: 'init', id: 0, init });
    });
  /** Counters of loaders that exited: the current one's are added to them. */
  const base: Partial<Record<keyof ReturnType<typeof newCounters>, number>> = {};

  // Requests that may run twice: the store keeps each Batch once and reads change nothing. One in flight when its
  // loader died is sent again to the next one; an audit append or a purge is not (it would be done twice).
  const REPEATABLE = new Set<Request['op']>(['load', 'sql', 'audit.list', 'checkpoint']);
  const call = async <T>(req: DistributiveOmit<Request, 'id'>): Promise<T> => {
    try {
      return await callOnce<T>(req);
    } catch (err) {
      if (!REPEATABLE.has(req.op) || !(err instanceof LoaderExit) || closing) throw err;
      return callOnce<T>(req);
    }
  };
  const callOnce = async <T>(req: DistributiveOmit<Request, 'id'>): Promise<T> => {
    if ((down || !child) && everStarted && !closing) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([ready.promise, new Promise((r) => (timer = setTimeout(r, RESTART_WAIT_MS)))]);
      clearTimeout(timer);
    }
    const c = child;
    if (down || !c) throw down ?? new VitalwireError('VW_ERR_ARCHIVE_STORE', 'archive loader process not running');
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      c.send({ ...req, id });
    });
  };

  try {
    await launch();
  } catch (err) {
    closing = true;
    (child as ChildProcess | null)?.kill('SIGKILL');
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
    exclusive: () =>
      Promise.reject(new Error('audit.exclusive runs beside the store (vitalwire bind), not through the central')),
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
    pace(on) {
      hold = on;
      if (!down && child?.connected) child.send({ op: 'pace', id: 0, hold: on });
    },
    async close() {
      closing = true;
      if (restartTimer) clearTimeout(restartTimer);
      const c = child;
      if (!c) return;
      const gone = new Promise((r) => c.once('exit', r));
      await call({ op: 'close' }).catch(() => undefined);
      // It exits once its channel closes; one that does not within 10 s is ended.
      const timer = setTimeout(() => c.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    },
  };
  return runArchive({ journal, backend, tuning, log, readOnly: false, release, ...(o.pacing ?? {}) });
}
