// The loader: sealed journal segments into the store. It reads a segment, decodes its Batches into rows in slices of
// `loadBatchSize` (yielding to the event loop between slices), writes them, and says which segments may be deleted:
// at once for a store whose write is durable (PostgreSQL), after the next checkpoint for the embedded store. The same
// loader runs in the archive's loader process (loader-process.ts, the central) or in the caller's thread (export, tests).
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Logger } from '../lib/log.js';
import { parseStreamTopic } from '../lib/topics.js';
import { readSegment, type JournalRecord } from './journal.js';
import { toRows } from './rows.js';
import type { BatchRows, RejectRow } from './schema.js';
import type { ArchiveStore, WriteReport } from './store/types.js';

export interface LoaderTuning {
  loadBatchSize: number;
  checkpointIntervalMs: number;
  checkpointRows: number;
}

export interface ArchiveCounters {
  batchesStored: number;
  duplicates: number;
  conflicts: number;
  rejects: number;
  rowsStored: number;
  loadErrors: number;
  /** Loads put off because the broker was busy (archive.ts). */
  loadsDeferred: number;
  checkpoints: number;
}

export const newCounters = (): ArchiveCounters => ({
  batchesStored: 0,
  duplicates: 0,
  conflicts: 0,
  rejects: 0,
  rowsStored: 0,
  loadErrors: 0,
  loadsDeferred: 0,
  checkpoints: 0,
});

export interface SegmentRef {
  no: number;
  path: string;
}

export class Loader {
  readonly counters = newCounters();
  /** Set while loads are held (hold()); resolved when the hold ends. */
  private held: { promise: Promise<void>; resolve: () => void } | null = null;
  private readonly loaded = new Set<number>();
  private awaitingCheckpoint: number[] = [];
  private rowsSinceCheckpoint = 0;
  private lastCheckpoint = Date.now();

  constructor(
    private readonly store: ArchiveStore,
    private readonly tuning: LoaderTuning,
    private readonly log: Logger,
    private readonly readOnly: boolean,
  ) {}

  private async writeSlice(records: readonly JournalRecord[]): Promise<void> {
    const batches: BatchRows[] = [];
    const rejects: RejectRow[] = [];
    for (const r of records) {
      const res = toRows(r.topic, r.payload, r.receivedUs);
      if (res.ok) batches.push(res.rows);
      else {
        rejects.push({
          t_us: r.receivedUs,
          site: parseStreamTopic(r.topic)?.site ?? r.topic.split('/')[2] ?? '',
          topic: r.topic,
          reason: res.reason,
          payload: Buffer.from(r.payload),
        });
        this.log.warn(
          { code: 'VW_ERR_ARCHIVE_REJECT', topic: r.topic, bytes: r.payload.length },
          'archive kept an unreadable payload in the reject table',
        );
      }
    }
    const rep: WriteReport = await this.store.write(batches, rejects);
    const c = this.counters;
    c.batchesStored += rep.stored;
    c.duplicates += rep.duplicates;
    c.rowsStored += rep.rows;
    c.rejects += rejects.length;
    this.rowsSinceCheckpoint += rep.rows + rep.stored;
    if (rep.conflicts > 0) {
      c.conflicts += rep.conflicts;
      this.log.warn(
        { code: 'VW_ERR_ARCHIVE_CONFLICT', conflicts: rep.conflicts },
        'Batches reused stored keys with different content: kept in the conflict table',
      );
    }
  }

  /**
   * While on, a load that is not forced waits before its next slice of loadBatchSize Batches and before a checkpoint:
   * the broker is busy (archive.ts paces the loader), and the journal already holds the data durably.
   */
  hold(on: boolean): void {
    if (on) {
      if (this.held) return;
      let resolve = (): void => undefined;
      const promise = new Promise<void>((r) => (resolve = r));
      this.held = { promise, resolve };
    } else if (this.held) {
      this.held.resolve();
      this.held = null;
    }
  }

  private async paced(force: boolean): Promise<void> {
    while (!force && this.held) await this.held.promise;
  }

  /**
   * Loads the segments not loaded yet; checkpoints the embedded store when due (or `force`). Returns the numbers of
   * the segments whose data the store now holds durably: the journal may delete them.
   */
  async load(segments: readonly SegmentRef[], force: boolean): Promise<number[]> {
    // A reader beside a shared store (PostgreSQL) writes nothing: the broker that owns the journal loads it.
    if (this.readOnly && this.store.durableOnWrite) return [];
    const durable: number[] = [];
    for (const seg of segments) {
      if (this.loaded.has(seg.no)) continue;
      const records = await readSegment(seg.path);
      for (let i = 0; i < records.length; i += this.tuning.loadBatchSize) {
        await this.paced(force);
        await this.writeSlice(records.slice(i, i + this.tuning.loadBatchSize));
        await yieldToLoop(); // the thread's other work gets its turn between slices
      }
      this.loaded.add(seg.no);
      if (this.store.durableOnWrite) durable.push(seg.no);
      else this.awaitingCheckpoint.push(seg.no);
    }
    const due =
      this.rowsSinceCheckpoint >= this.tuning.checkpointRows ||
      Date.now() - this.lastCheckpoint >= this.tuning.checkpointIntervalMs;
    if (!this.store.durableOnWrite && !this.readOnly && this.awaitingCheckpoint.length > 0 && (force || due)) {
      await this.paced(force);
      await this.store.checkpoint();
      this.counters.checkpoints++;
      durable.push(...this.awaitingCheckpoint);
      this.awaitingCheckpoint = [];
      this.rowsSinceCheckpoint = 0;
      this.lastCheckpoint = Date.now();
    }
    for (const no of durable) this.loaded.delete(no);
    return durable;
  }
}
