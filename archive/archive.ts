// The archive service: what the broker calls for every Batch it accepts, and the background loader that moves
// journaled Batches into the store. The broker's cost is one buffer copy and a share of one fdatasync per commit;
// decoding, row building and store writes happen later, in the loader, in slices that yield to the event loop.
//
// Durability: `done()` fires after the journal's fdatasync of the record (journal.ts). From then on a crash loses
// nothing: at start the journal's segments are loaded again, and the store drops what it already holds (exactly once
// by Batch key). A segment is deleted only once the store holds its data durably (after the PostgreSQL commit, or
// after the embedded store's next checkpoint names the Parquet files in its manifest).
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { takeLock } from '../lib/pid-lock.js';
import { VitalwireError } from '../decoders/errors.js';
import type { Logger } from '../lib/log.js';
import { parseStreamTopic } from '../lib/topics.js';
import { Journal, readSegment, type Done, type JournalRecord, type SealedSegment } from './journal.js';
import { toRows } from './rows.js';
import { runRetention, type RetentionDays } from './retention.js';
import type { BatchRows, RejectRow } from './schema.js';
import type { ArchiveStore, WriteReport } from './store/types.js';

export interface ArchiveTuning {
  /** Longest an append waits to share an fsync (the PUBACK delay this adds). */
  commitDelayMs: number;
  commitMaxBytes: number;
  /** Journal bytes beyond which appends are refused (VW_ERR_ARCHIVE_FULL): the store has been down too long. */
  journalMaxBytes: number;
  /** How often the loader moves journaled Batches into the store. */
  loadIntervalMs: number;
  /** Batches per store write. */
  loadBatchSize: number;
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

export interface ArchiveCounters {
  batchesStored: number;
  duplicates: number;
  conflicts: number;
  rejects: number;
  rowsStored: number;
  loadErrors: number;
  checkpoints: number;
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
  readonly store: ArchiveStore;
  readonly counters: ArchiveCounters;
  readonly journal: Journal;
  close(): Promise<void>;
}

/** One writing process per archive directory: a second would interleave journal segments. */
async function lockDir(dir: string): Promise<() => Promise<void>> {
  const r = await takeLock(join(dir, 'archive.lock'));
  if (typeof r === 'function') return r;
  throw new VitalwireError('VW_ERR_CONFIG', `archive dataDir ${dir} is in use by process ${r.heldBy}`);
}

export async function openArchive(o: ArchiveOptions): Promise<Archive> {
  const tuning: ArchiveTuning = { ...DEFAULT_TUNING, ...o.tuning };
  const log = o.logger.child({ component: 'archive' });
  const nowUs = o.nowUs ?? (() => Date.now() * 1000);
  const release = o.readOnly ? async () => undefined : await lockDir(o.dataDir);
  const journal = await Journal.open({
    dir: join(o.dataDir, 'journal'), commitDelayMs: tuning.commitDelayMs, commitMaxBytes: tuning.commitMaxBytes, maxBytes: tuning.journalMaxBytes,
    logger: log, nowUs, ...(o.readOnly ? { readOnly: true } : {}),
  });
  const counters: ArchiveCounters = { batchesStored: 0, duplicates: 0, conflicts: 0, rejects: 0, rowsStored: 0, loadErrors: 0, checkpoints: 0 };
  const loadedNos = new Set<number>();
  let awaitingCheckpoint: SealedSegment[] = [];
  let rowsSinceCheckpoint = 0;
  let lastCheckpoint = Date.now();
  let chain: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | null = null;
  let backoffMs = tuning.loadIntervalMs;
  let closed = false;

  const writeSlice = async (records: JournalRecord[]): Promise<void> => {
    const batches: BatchRows[] = [];
    const rejects: RejectRow[] = [];
    for (const r of records) {
      const res = toRows(r.topic, r.payload, r.receivedUs);
      if (res.ok) batches.push(res.rows);
      else {
        rejects.push({ t_us: r.receivedUs, site: parseStreamTopic(r.topic)?.site ?? r.topic.split('/')[2] ?? '', topic: r.topic, reason: res.reason, payload: Buffer.from(r.payload) });
        log.warn({ code: 'VW_ERR_ARCHIVE_REJECT', topic: r.topic, bytes: r.payload.length }, 'archive kept an unreadable payload in the reject table');
      }
    }
    const rep: WriteReport = await o.store.write(batches, rejects);
    counters.batchesStored += rep.stored;
    counters.duplicates += rep.duplicates;
    counters.rowsStored += rep.rows;
    counters.rejects += rejects.length;
    rowsSinceCheckpoint += rep.rows + rep.stored;
    if (rep.conflicts > 0) {
      counters.conflicts += rep.conflicts;
      log.warn({ code: 'VW_ERR_ARCHIVE_CONFLICT', conflicts: rep.conflicts }, 'Batches reused stored keys with different content: kept in the conflict table');
    }
  };

  const loadOnce = async (force: boolean): Promise<void> => {
    // A reader beside a shared store (PostgreSQL) writes nothing: the broker that owns the journal loads it.
    if (o.readOnly && o.store.durableOnWrite) return;
    const segs = await journal.seal();
    for (const seg of segs) {
      if (loadedNos.has(seg.no)) continue;
      const records = await readSegment(seg.path);
      for (let i = 0; i < records.length; i += tuning.loadBatchSize) {
        await writeSlice(records.slice(i, i + tuning.loadBatchSize));
        await yieldToLoop(); // the broker's sockets get their turn between slices
      }
      loadedNos.add(seg.no);
      if (o.store.durableOnWrite) {
        if (!o.readOnly) await journal.drop(seg);
      } else awaitingCheckpoint.push(seg);
    }
    const due = rowsSinceCheckpoint >= tuning.checkpointRows || Date.now() - lastCheckpoint >= tuning.checkpointIntervalMs;
    if (!o.store.durableOnWrite && !o.readOnly && awaitingCheckpoint.length > 0 && (force || due)) {
      await o.store.checkpoint();
      counters.checkpoints++;
      for (const seg of awaitingCheckpoint) await journal.drop(seg);
      awaitingCheckpoint = [];
      rowsSinceCheckpoint = 0;
      lastCheckpoint = Date.now();
    }
  };

  const serial = (force: boolean): Promise<void> => {
    const run = chain.then(() => loadOnce(force));
    chain = run.catch(() => undefined);
    return run;
  };

  const tick = (): void => {
    timer = null;
    if (closed) return;
    serial(false).then(
      () => {
        backoffMs = tuning.loadIntervalMs;
      },
      (err: unknown) => {
        counters.loadErrors++;
        backoffMs = Math.min(backoffMs * 2, 30_000);
        log.error({ code: 'VW_ERR_ARCHIVE_STORE', err: (err as Error).message, retryMs: backoffMs, journalBytes: journal.diskBytes() }, 'archive load failed: the journal keeps the data');
      },
    ).finally(() => {
      if (!closed) timer = setTimeout(tick, backoffMs);
    });
  };
  // What the journal held at start goes in before anything new (and, read-only, is all there is).
  await serial(false);
  if (!o.readOnly) timer = setTimeout(tick, tuning.loadIntervalMs);
  let purgeTimer: NodeJS.Timeout | null = null;
  const purge = (): void => {
    purgeTimer = null;
    if (closed || !o.retention) return;
    const days = o.retention;
    const run = chain.then(() => runRetention(o.store, o.store.audit, days, nowUs()));
    chain = run.then(() => undefined, () => undefined);
    run.then(
      (rs) => log.info({ rows: rs.reduce((n, r) => n + r.rows, 0) }, 'archive retention purge done'),
      (err: unknown) => log.error({ code: 'VW_ERR_ARCHIVE_STORE', err: (err as Error).message }, 'archive retention purge failed; retried tomorrow'),
    ).finally(() => {
      if (!closed) purgeTimer = setTimeout(purge, 86_400_000);
    });
  };
  if (!o.readOnly && o.retention) purgeTimer = setTimeout(purge, 60_000);

  return {
    append: (topic, payload, done) => journal.append(topic, payload, done),
    flush: () => serial(true),
    store: o.store,
    counters,
    journal,
    async close() {
      if (closed) return;
      closed = true;
      if (timer) clearTimeout(timer);
      if (purgeTimer) clearTimeout(purgeTimer);
      await journal.close();
      await chain;
      await o.store.close();
      await release();
    },
  };
}
