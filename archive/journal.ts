// The archive's write-ahead journal: every accepted Batch is appended here, and its `done` fires once an fdatasync has
// made it durable. Appends share one writev + fdatasync (group commit): those of one event-loop turn, and all that
// arrive while a commit is running, go in the next one; commits start at most once per commitDelayMs (an append after a
// quiet spell commits at the end of its turn). So the broker's PUBACK costs a share of one fsync, not one per message.
// The loader later seals the active segment, loads sealed segments into the store off the hot path, and drops them
// once the store holds their data.
//
//   segment file  = frames (lib/framed-records.ts), named <12-digit number>.jnl
//   record body   = u8 type (1) | f64 LE received time (us, central clock) | u16 LE topic length | topic (latin1)
//                   | payload (the Batch bytes exactly as published)
import { constants } from 'node:fs';
import { mkdir, open, readdir, readFile, truncate, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { VitalwireError } from '../lib/errors.js';
import { FRAME_HEADER_BYTES, scanFrames, syncDir } from '../lib/framed-records.js';
import type { Logger } from '../lib/log.js';
import { crc32 } from 'node:zlib';

const REC_BATCH = 1;
const BODY_FIXED = 1 + 8 + 2;
const NAME = /^(\d{12})\.jnl$/;
/** Size of the slabs records are framed into: most commits fit in one. */
const SLAB_BYTES = 256 * 1024;

export interface JournalOptions {
  dir: string;
  /** Longest an append waits for others to share its fsync. */
  commitDelayMs: number;
  /** Staged bytes that start a commit at once. */
  commitMaxBytes: number;
  /** Bytes on disk (all segments) beyond which appends are refused with VW_ERR_ARCHIVE_FULL. */
  maxBytes: number;
  logger: Logger;
  nowUs?: () => number;
  /** Open without writing: no torn-tail truncation, no appends (the export command's view of a running archive). */
  readOnly?: boolean;
}

export interface JournalRecord {
  topic: string;
  payload: Buffer;
  receivedUs: number;
}

export interface SealedSegment {
  no: number;
  path: string;
  bytes: number;
}

export type Done = (err?: Error | null) => void;

export interface JournalCounters {
  appends: number;
  commits: number;
  fsyncs: number;
  refusedFull: number;
  writeErrors: number;
  tornSegments: number;
}

export class Journal {
  readonly counters: JournalCounters = {
    appends: 0,
    commits: 0,
    fsyncs: 0,
    refusedFull: 0,
    writeErrors: 0,
    tornSegments: 0,
  };
  private readonly o: JournalOptions;
  private readonly nowUs: () => number;
  private sealed: SealedSegment[] = [];
  private activeNo = 0;
  private active: FileHandle | null = null;
  private activeSize = 0;
  private sealedBytes = 0;
  /** Filled slabs of this commit, in order; the slab being filled is `slab` up to `slabUsed`. */
  private staged: Buffer[] = [];
  private stagedBytes = 0;
  private slab: Buffer = Buffer.allocUnsafe(0);
  private slabUsed = 0;
  private slabStart = 0;
  private waiters: Done[] = [];
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private committing: Promise<void> | null = null;
  /** performance.now() when the last commit started: the next one starts commitDelayMs after it at the earliest. */
  private lastCommitAt = -Infinity;
  private closed = false;

  private constructor(o: JournalOptions) {
    this.o = o;
    this.nowUs = o.nowUs ?? (() => Date.now() * 1000);
  }

  /** Opens the journal: every segment found is sealed (to be loaded); a torn tail is truncated at its last whole record. */
  static async open(o: JournalOptions): Promise<Journal> {
    const j = new Journal(o);
    await j.recover();
    return j;
  }

  private async recover(): Promise<void> {
    if (!this.o.readOnly) await mkdir(this.o.dir, { recursive: true, mode: 0o700 });
    let names: string[] = [];
    try {
      names = (await readdir(this.o.dir)).filter((n) => NAME.test(n)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    for (const name of names) {
      const no = Number(name.slice(0, 12));
      const path = join(this.o.dir, name);
      this.activeNo = Math.max(this.activeNo, no);
      const buf = await readFile(path);
      let bytes = buf.length;
      if (!this.o.readOnly) {
        const r = scanFrames(buf, () => undefined);
        if (r.torn) {
          // A write cut by the crash: never acknowledged (done fires after the fsync of whole frames only).
          await truncate(path, r.end);
          this.counters.tornSegments++;
          this.o.logger.warn(
            { code: 'VW_ERR_ARCHIVE_TORN', segment: path, keptBytes: r.end, droppedBytes: bytes - r.end },
            'archive journal had a torn tail: truncated',
          );
          bytes = r.end;
        }
      }
      this.sealed.push({ no, path, bytes });
      this.sealedBytes += bytes;
    }
  }

  /** Bytes held on disk and staged. */
  diskBytes(): number {
    return this.sealedBytes + this.activeSize + this.stagedBytes;
  }

  /**
   * Appends one published Batch. `done()` fires once it is durable (fsynced); `done(err)` when it was refused
   * (VW_ERR_ARCHIVE_FULL, closed) or the write failed (VW_ERR_ARCHIVE_IO). Never throws.
   */
  append(topic: string, payload: Uint8Array, done: Done): void {
    if (this.closed || this.o.readOnly) {
      done(new VitalwireError('VW_ERR_ARCHIVE_IO', 'journal closed'));
      return;
    }
    const topicLen = Buffer.byteLength(topic, 'latin1');
    const bodyLen = BODY_FIXED + topicLen + payload.length;
    if (this.diskBytes() + bodyLen + FRAME_HEADER_BYTES > this.o.maxBytes) {
      this.counters.refusedFull++;
      done(
        new VitalwireError(
          'VW_ERR_ARCHIVE_FULL',
          `journal holds ${this.diskBytes()} bytes (maxBytes ${this.o.maxBytes})`,
        ),
      );
      return;
    }
    // Frames are written one after another into a slab shared by the records of a commit: no allocation per record
    // (an allocation and a free per message were a third of the journal's cost on the broker's thread), and the commit
    // hands the kernel a few large buffers rather than one per record.
    const frameLen = FRAME_HEADER_BYTES + bodyLen;
    if (this.slab.length - this.slabUsed < frameLen) this.nextSlab(frameLen);
    const slab = this.slab;
    const start = this.slabUsed;
    slab.writeUInt32LE(bodyLen, start);
    let o = start + FRAME_HEADER_BYTES;
    slab[o++] = REC_BATCH;
    o = slab.writeDoubleLE(this.nowUs(), o);
    o = slab.writeUInt16LE(topicLen, o);
    o += slab.write(topic, o, 'latin1');
    slab.set(payload, o);
    slab.writeUInt32LE(crc32(slab.subarray(start + FRAME_HEADER_BYTES, start + frameLen)), start + 4);
    this.slabUsed = start + frameLen;
    this.stagedBytes += frameLen;
    this.waiters.push(done);
    this.counters.appends++;
    this.schedule();
  }

  /** Moves the filled part of the slab to `staged` and starts a new slab with room for at least `need` bytes. */
  private nextSlab(need: number): void {
    this.stageSlab();
    this.slab = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, need));
    this.slabUsed = 0;
    this.slabStart = 0;
  }

  /** The slab's frames not yet staged, as one buffer of `staged`; the slab itself stays in use for what follows. */
  private stageSlab(): void {
    if (this.slabUsed > this.slabStart) this.staged.push(this.slab.subarray(this.slabStart, this.slabUsed));
    this.slabStart = this.slabUsed;
  }

  private schedule(): void {
    if (this.committing) return; // the running commit schedules the next one
    if (this.stagedBytes >= this.o.commitMaxBytes) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      void this.commit();
      return;
    }
    // Commits start at most once per commitDelayMs: under load each fsync is shared by the appends of that interval,
    // while an append after a quiet spell commits at once (its PUBACK waits for the sync alone, not for the delay).
    const wait = this.lastCommitAt + this.o.commitDelayMs - performance.now();
    if (wait <= 0) {
      // After this turn's I/O: every PUBLISH of the socket chunks read in this turn is staged by then.
      this.immediate ??= setImmediate(() => {
        this.immediate = null;
        void this.commit();
      });
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = null;
      void this.commit();
    }, wait);
  }

  /** Writes and fsyncs everything staged now; each waiter's done fires with the result. */
  async commit(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.immediate) {
      clearImmediate(this.immediate);
      this.immediate = null;
    }
    while (this.committing) await this.committing;
    this.stageSlab();
    if (this.staged.length === 0) return;
    const bufs = this.staged;
    const waiters = this.waiters;
    const bytes = this.stagedBytes;
    this.lastCommitAt = performance.now();
    this.staged = [];
    this.waiters = [];
    this.stagedBytes = 0;
    this.committing = (async () => {
      let err: Error | null = null;
      try {
        const fh = await this.openActive();
        const base = this.activeSize;
        try {
          const { bytesWritten } = await fh.writev(bufs, base);
          if (bytesWritten !== bytes)
            throw Object.assign(new Error(`short write: ${bytesWritten} of ${bytes}`), { code: 'ENOSPC' });
          await fh.datasync();
          this.activeSize = base + bytes;
          this.counters.fsyncs++;
        } catch (e) {
          // Take a partial write back off the file, so the next record follows a whole one.
          await fh.truncate(base).catch(() => undefined);
          throw e;
        }
      } catch (e) {
        this.counters.writeErrors++;
        err = new VitalwireError('VW_ERR_ARCHIVE_IO', (e as NodeJS.ErrnoException).code ?? String(e), { cause: e });
        this.o.logger.error(
          { code: 'VW_ERR_ARCHIVE_IO', records: waiters.length, err: (e as Error).message },
          'archive journal write failed',
        );
      }
      this.counters.commits++;
      for (const w of waiters) w(err);
    })();
    try {
      await this.committing;
    } finally {
      this.committing = null;
    }
    if (this.stagedBytes > 0) this.schedule();
  }

  /** The active segment, created (and its directory entry synced) on first use. */
  private async openActive(): Promise<FileHandle> {
    if (this.active) return this.active;
    this.activeNo++;
    this.activeSize = 0;
    const fh = await open(this.pathOf(this.activeNo), constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC, 0o600);
    await syncDir(this.o.dir);
    this.active = fh;
    return fh;
  }

  private pathOf(no: number): string {
    return join(this.o.dir, `${String(no).padStart(12, '0')}.jnl`);
  }

  /** Closes the active segment (after the commit in progress) so the loader may take it; returns every sealed segment. */
  async seal(): Promise<SealedSegment[]> {
    if (this.o.readOnly) return [...this.sealed];
    await this.commit();
    while (this.committing) await this.committing;
    if (this.active) {
      // Taken before any await: a commit that starts while the file closes opens the next segment.
      const fh = this.active;
      const seg: SealedSegment = { no: this.activeNo, path: this.pathOf(this.activeNo), bytes: this.activeSize };
      this.active = null;
      this.activeSize = 0;
      if (seg.bytes > 0) {
        this.sealed.push(seg);
        this.sealedBytes += seg.bytes;
      }
      await fh.close();
      if (seg.bytes === 0) await unlink(seg.path).catch(() => undefined);
    }
    return [...this.sealed];
  }

  /** Deletes a sealed segment whose records the store now holds durably. */
  async drop(seg: SealedSegment): Promise<void> {
    const i = this.sealed.findIndex((s) => s.no === seg.no);
    if (i < 0) return;
    this.sealed.splice(i, 1);
    this.sealedBytes -= seg.bytes;
    await unlink(seg.path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.commit();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    await this.active?.close();
    this.active = null;
  }
}

/** Reads the records of a sealed segment (a missing file reads as empty: another process loaded and dropped it). */
export async function readSegment(path: string): Promise<JournalRecord[]> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: JournalRecord[] = [];
  scanFrames(buf, (type, body) => {
    if (type !== REC_BATCH || body.length < BODY_FIXED) return;
    const receivedUs = body.readDoubleLE(1);
    const topicLen = body.readUInt16LE(9);
    if (BODY_FIXED + topicLen > body.length) return;
    out.push({
      receivedUs,
      topic: body.toString('latin1', BODY_FIXED, BODY_FIXED + topicLen),
      payload: body.subarray(BODY_FIXED + topicLen),
    });
  });
  return out;
}
