// The archive service: what the broker calls for every Batch it accepts, and the background loader that moves
// journaled Batches into the store. The broker's cost is one buffer copy and a share of one fdatasync per commit;
// decoding, row building and store writes happen later, in the loader (loader.ts): in a loader process for the central
// (loader-client.ts: never on the broker's threads), or in the caller's thread for the export command and tests.
//
// Durability: `done()` fires after the journal's fdatasync of the record (journal.ts). From then on a crash loses
// nothing: at start the journal's segments are loaded again, and the store drops what it already holds (exactly once
// by Batch key). A segment is deleted only once the store holds its data durably (after the PostgreSQL commit, or
// after the embedded store's next checkpoint names the Parquet files in its manifest).
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { takeLock } from '../lib/pid-lock.js';
import { VitalwireError } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { Journal, type Done } from './journal.js';
import { Loader, type ArchiveCounters, type SegmentRef } from './loader.js';
import { runRetention, type RetentionDays } from './retention.js';
import type { ArchiveStore } from './store/types.js';

export type { ArchiveCounters } from './loader.js';

export interface ArchiveTuning {
  /** How long a commit waits for more appends to share its fsync (the PUBACK delay this adds); 0: none (journal.ts). */
  commitDelayMs: number;
  commitMaxBytes: number;
  /** Journal bytes beyond which appends are refused (VW_ERR_ARCHIVE_FULL): the store has been down too long. */
  journalMaxBytes: number;
  /** How often the loader moves journaled Batches into the store. */
  loadIntervalMs: number;
  /** Batches per store write. */
  loadBatchSize: number;
  /**
   * The broker's event-loop utilization (0-1, looked at every PACE_MS) above which loads wait: the journal already
   * holds the data durably, and on a machine the broker shares, the loader's work at its peak delayed the broker's
   * messages by hundreds of milliseconds. 1: never wait.
   */
  loadDeferAbove: number;
  /** Longest the load waits for the broker to become less busy (how far the store may lag behind the journal). */
  loadMaxDeferMs: number;
  /** Embedded store: longest time, and most rows, between checkpoints (Parquet files written, journal dropped). */
  checkpointIntervalMs: number;
  checkpointRows: number;
}

export const DEFAULT_TUNING: ArchiveTuning = {
  commitDelayMs: 5,
  commitMaxBytes: 1 << 20,
  journalMaxBytes: 4 * 1024 ** 3,
  loadIntervalMs: 1000,
  loadBatchSize: 2000,
  loadDeferAbove: 0.5,
  loadMaxDeferMs: 60_000,
  checkpointIntervalMs: 10 * 60_000,
  checkpointRows: 2_000_000,
};

export interface ArchiveOptions {
  /** The archive's own directory: journal/ (and, for the embedded store, parquet/ and audit/). */
  dataDir: string;
  store: ArchiveStore;
  logger: Logger;
  tuning?: Partial<ArchiveTuning>;
  nowUs?: () => number;
  /** Read the journal without writing it (the export command beside a running central). */
  readOnly?: boolean;
  /** Days kept per kind; the purge runs a minute after start, then daily. Absent: no purge. */
  retention?: RetentionDays;
}

export interface Archive {
  /**
   * For every Batch the broker accepts: the topic (vw/v1/<site>/<gateway>/<device>/<kind>) and the payload bytes as
   * published. `done()` fires once the Batch is durable (acknowledge it then); `done(err)` when it was not accepted
   * (VW_ERR_ARCHIVE_FULL, VW_ERR_ARCHIVE_IO): do not acknowledge. Never throws; the payload is copied before it returns.
   */
  append(topic: string, payload: Uint8Array, done: Done): void;
  /** Loads everything journaled so far and makes it durable in the store (tests, shutdown, export). */
  flush(): Promise<void>;
  /** The store, for queries (the central's: a proxy whose queries run in the loader process). */
  readonly store: ArchiveStore;
  readonly counters: ArchiveCounters;
  readonly journal: Journal;
  close(): Promise<void>;
}

/** Where the loading happens: here (Loader over a store) or in the loader process. */
export interface LoadBackend {
  readonly store: ArchiveStore;
  readonly counters: ArchiveCounters;
  /** Loads these sealed segments; resolves with the numbers of those now durable in the store. */
  load(segments: readonly SegmentRef[], force: boolean): Promise<number[]>;
  /** While on, loads that are not forced wait between slices (the broker is busy). */
  pace(hold: boolean): void;
  close(): Promise<void>;
}

/** How often the broker's event-loop utilization is looked at to pace the loader. */
const PACE_MS = 250;
/** Looks in a row at a quiet broker that end a hold (one second). */
const QUIET_LOOKS = 4;

/** The event loop's utilization (0-1) between one call and the next. */
function eventLoopBusy(): () => number {
  let last = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const u = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    return u;
  };
}

/** One writing process per archive directory: a second would interleave journal segments. */
export async function lockDir(dir: string): Promise<() => Promise<void>> {
  const r = await takeLock(join(dir, 'archive.lock'));
  if (typeof r === 'function') return r;
  throw new VitalwireError('VW_ERR_CONFIG', `archive dataDir ${dir} is in use by process ${r.heldBy}`);
}

export async function openJournal(
  dataDir: string,
  tuning: ArchiveTuning,
  log: Logger,
  readOnly: boolean,
  nowUs?: () => number,
): Promise<Journal> {
  return Journal.open({
    dir: join(dataDir, 'journal'),
    commitDelayMs: tuning.commitDelayMs,
    commitMaxBytes: tuning.commitMaxBytes,
    maxBytes: tuning.journalMaxBytes,
    logger: log,
    ...(nowUs ? { nowUs } : {}),
    ...(readOnly ? { readOnly: true } : {}),
  });
}

/** The archive with its loader in this thread, over a store the caller opened. */
export async function openArchive(o: ArchiveOptions): Promise<Archive> {
  const tuning: ArchiveTuning = { ...DEFAULT_TUNING, ...o.tuning };
  const log = o.logger.child({ component: 'archive' });
  const nowUs = o.nowUs ?? (() => Date.now() * 1000);
  const release = o.readOnly ? async () => undefined : await lockDir(o.dataDir);
  const journal = await openJournal(o.dataDir, tuning, log, o.readOnly === true, nowUs);
  const loader = new Loader(o.store, tuning, log, o.readOnly === true);
  let purgeTimer: NodeJS.Timeout | null = null;
  let purging: Promise<unknown> = Promise.resolve();
  let closed = false;
  const purge = (): void => {
    purgeTimer = null;
    if (closed || !o.retention) return;
    purging = runRetention(o.store, o.store.audit, o.retention, nowUs())
      .then(
        (rs) => log.info({ rows: rs.reduce((n, r) => n + r.rows, 0) }, 'archive retention purge done'),
        (err: unknown) =>
          log.error(
            { code: 'VW_ERR_ARCHIVE_STORE', err: (err as Error).message },
            'archive retention purge failed; retried tomorrow',
          ),
      )
      .finally(() => {
        if (!closed) purgeTimer = setTimeout(purge, 86_400_000);
      });
  };
  if (!o.readOnly && o.retention) purgeTimer = setTimeout(purge, 60_000);
  const backend: LoadBackend = {
    store: o.store,
    counters: loader.counters,
    load: (segs, force) => loader.load(segs, force),
    pace: (hold) => loader.hold(hold),
    async close() {
      closed = true;
      if (purgeTimer) clearTimeout(purgeTimer);
      await purging;
      await o.store.close();
    },
  };
  return runArchive({ journal, backend, tuning, log, readOnly: o.readOnly === true, release });
}

/**
 * The archive around a journal and a load backend: the loader's timer (with backoff when the store fails), flush and
 * close. What the journal held at start is loaded before this returns.
 */
export async function runArchive(o: {
  journal: Journal;
  backend: LoadBackend;
  tuning: ArchiveTuning;
  log: Logger;
  readOnly: boolean;
  release: () => Promise<void>;
  /** This thread's event-loop utilization since the last call (tests replace it). */
  busy?: () => number;
  /** How often the utilization is looked at (tests: less than PACE_MS). */
  paceMs?: number;
}): Promise<Archive> {
  const { journal, backend, tuning, log } = o;
  const busy = o.busy ?? eventLoopBusy();
  let chain: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | null = null;
  let backoffMs = tuning.loadIntervalMs;
  let closed = false;
  // Pacing: while the broker's event loop is busier than loadDeferAbove, loads wait (the one under way between its
  // slices), for at most loadMaxDeferMs; after that wait the loader runs until a load completes within one interval (it
  // has caught up) before it may be held again. Never while the journal holds more than half its limit, so
  // the loader always starts with at least as much room left as it has to load; never while a flush waits.
  let holding = false;
  let holdSince = 0;
  let mustCatchUp = false;
  let flushing = 0;
  let quietLooks = 0;
  const setHold = (on: boolean, why: Record<string, unknown>): void => {
    holding = on;
    backend.pace(on);
    log.info(why, on ? 'archive loads wait while the broker is busy' : 'archive loads resume');
  };
  const pace = (): void => {
    const u = busy();
    const now = performance.now();
    const room = journal.diskBytes() < tuning.journalMaxBytes / 2;
    if (!holding) {
      if (u > tuning.loadDeferAbove && room && !mustCatchUp && flushing === 0 && !closed) {
        holdSince = now;
        quietLooks = 0;
        setHold(true, { utilization: Math.round(u * 100) / 100 });
      }
      return;
    }
    // Released once the broker has been quiet for QUIET_LOOKS looks in a row, not at one quiet look: a pause between
    // bursts of a few hundred milliseconds let the loader start a slice (or a checkpoint) it then cannot leave.
    quietLooks = u <= tuning.loadDeferAbove ? quietLooks + 1 : 0;
    const over = now - holdSince >= tuning.loadMaxDeferMs || !room;
    if (quietLooks >= QUIET_LOOKS || over || flushing > 0 || closed) {
      if (over) mustCatchUp = true;
      setHold(false, { heldMs: Math.round(now - holdSince), journalBytes: journal.diskBytes() });
    }
  };
  const loadOnce = async (force: boolean): Promise<void> => {
    const segs = await journal.seal();
    const durable = new Set(
      await backend.load(
        segs.map((s) => ({ no: s.no, path: s.path })),
        force,
      ),
    );
    if (o.readOnly) return;
    for (const seg of segs) if (durable.has(seg.no)) await journal.drop(seg);
  };
  const serial = (force: boolean): Promise<void> => {
    const run = chain.then(() => loadOnce(force));
    chain = run.catch(() => undefined);
    return run;
  };
  const tick = (): void => {
    timer = null;
    if (closed) return;
    if (holding) {
      backend.counters.loadsDeferred++;
      timer = setTimeout(tick, tuning.loadIntervalMs);
      return;
    }
    const started = performance.now();
    serial(false)
      .then(
        () => {
          backoffMs = tuning.loadIntervalMs;
          if (performance.now() - started < tuning.loadIntervalMs) mustCatchUp = false;
        },
        (err: unknown) => {
          backend.counters.loadErrors++;
          backoffMs = Math.min(backoffMs * 2, 30_000);
          log.error(
            {
              code: 'VW_ERR_ARCHIVE_STORE',
              err: (err as Error).message,
              retryMs: backoffMs,
              journalBytes: journal.diskBytes(),
            },
            'archive load failed: the journal keeps the data',
          );
        },
      )
      .finally(() => {
        if (!closed) timer = setTimeout(tick, backoffMs);
      });
  };
  // What the journal held at start goes in before anything new (and, read-only, is all there is).
  try {
    await serial(false);
  } catch (err) {
    await journal.close();
    await backend.close();
    await o.release();
    throw err;
  }
  if (!o.readOnly) timer = setTimeout(tick, tuning.loadIntervalMs);
  const pacer = !o.readOnly && tuning.loadDeferAbove < 1 ? setInterval(pace, o.paceMs ?? PACE_MS) : null;
  pacer?.unref();

  return {
    append: (topic, payload, done) => journal.append(topic, payload, done),
    async flush() {
      flushing++;
      if (holding) setHold(false, { flush: true });
      try {
        await serial(true);
      } finally {
        flushing--;
      }
    },
    store: backend.store,
    counters: backend.counters,
    journal,
    async close() {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      if (pacer) clearInterval(pacer);
      if (holding) setHold(false, { closing: true });
      await journal.close();
      await chain;
      await backend.close();
      await o.release();
    },
  };
}
