// One append-only log of the outbox (waveforms, numerics, or alarms+status): a directory of segment files, the newest
// one active. Records are staged in memory and written by flush(), which the outbox's group commit calls: one writev
// and one fdatasync for everything staged. Segments are deleted oldest first only, so an ACK record (always written
// after its DATA record, in the same log) is never deleted before the record it acknowledges.
import { mkdir, readdir, readFile, truncate, unlink } from 'node:fs/promises';
import { syncDir } from '../../lib/framed-records.js';
import { FRAME_HEADER_BYTES, REC_ACK, REC_DATA, REC_SNAPSHOT, scanFrames } from './records.js';
import { Segment } from './segment.js';

export interface RecoveryVisitor {
  data(seg: Segment, index: number, body: Buffer): void;
  ack(log: SegmentLog, body: Buffer): void;
  snapshot(body: Buffer): void;
  torn(path: string, keptBytes: number, droppedBytes: number): void;
}

interface StagedData {
  id: number;
  timeUs: number;
  relOff: number;
  len: number;
  indexed?: ((seg: Segment, index: number) => void) | undefined;
}

export class SegmentLog {
  readonly name: string;
  readonly dir: string;
  readonly segmentBytes: number;
  readonly segments: Segment[] = [];
  private nextNo = 1;
  private staged: Buffer[] = [];
  private stagedBytes = 0;
  private stagedData: StagedData[] = [];
  /** Bytes written since the last fdatasync (ACK records are written without one). */
  private unsynced = false;

  constructor(name: string, dir: string, segmentBytes: number) {
    this.name = name;
    this.dir = dir;
    this.segmentBytes = segmentBytes;
  }

  get active(): Segment | undefined {
    return this.segments[this.segments.length - 1];
  }

  diskBytes(): number {
    let n = this.stagedBytes;
    for (const s of this.segments) n += s.size;
    return n;
  }

  hasStaged(): boolean {
    return this.stagedBytes > 0;
  }

  hasStagedData(): boolean {
    return this.stagedData.length > 0;
  }

  /** Reads every segment: indexes DATA records, hands ACKs and snapshots to the visitor, truncates a torn tail. */
  async recover(v: RecoveryVisitor): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const names = (await readdir(this.dir)).filter((n) => /^\d{12}\.seg$/.test(n)).sort();
    for (const name of names) {
      const seg = new Segment(this.dir, Number(name.slice(0, 12)));
      // Listed before its records are read: an ACK may follow its DATA record in the same segment.
      this.segments.push(seg);
      const buf = await readFile(seg.path);
      const r = scanFrames(buf, (type, body, bodyOffset) => {
        if (type === REC_DATA) {
          const timeUs = body.length >= 25 ? body.readDoubleLE(17) : 0; // fromUs
          const i = seg.add(body.readDoubleLE(1), timeUs, bodyOffset, body.length);
          v.data(seg, i, body);
        } else if (type === REC_ACK) v.ack(this, body);
        else if (type === REC_SNAPSHOT) v.snapshot(body);
      });
      if (r.torn) {
        await truncate(seg.path, r.end);
        v.torn(seg.path, r.end, buf.length - r.end);
      }
      seg.size = r.end;
      this.nextNo = seg.no + 1;
    }
  }

  /** The segment and index of a record by id (segments hold increasing ids), or null. */
  find(id: number): { seg: Segment; index: number } | null {
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const s = this.segments[mid];
      if (!s) break;
      if (id < s.firstId()) hi = mid - 1;
      else if (id > s.lastId()) lo = mid + 1;
      else {
        const index = s.indexOf(id);
        return index >= 0 ? { seg: s, index } : null;
      }
    }
    return null;
  }

  stageData(frame: Buffer, id: number, timeUs: number, indexed?: (seg: Segment, index: number) => void): void {
    this.stagedData.push({
      id,
      timeUs,
      relOff: this.stagedBytes + FRAME_HEADER_BYTES,
      len: frame.length - FRAME_HEADER_BYTES,
      indexed,
    });
    this.staged.push(frame);
    this.stagedBytes += frame.length;
  }

  stageRaw(frame: Buffer): void {
    this.staged.push(frame);
    this.stagedBytes += frame.length;
  }

  /** Writes everything staged (rotating first when the active segment is full); fdatasync when `sync`. */
  async flush(sync: boolean, snapshot: () => Buffer): Promise<void> {
    if (this.stagedBytes === 0) {
      if (sync && this.unsynced) await this.syncActive();
      return;
    }
    const bufs = this.staged;
    const data = this.stagedData;
    const bytes = this.stagedBytes;
    this.staged = [];
    this.stagedData = [];
    this.stagedBytes = 0;
    let seg = this.active;
    if (!seg || seg.size >= this.segmentBytes) seg = await this.rotate(snapshot());
    const fh = await seg.openFile();
    const base = seg.size;
    try {
      const { bytesWritten } = await fh.writev(bufs, base);
      if (bytesWritten !== bytes)
        throw Object.assign(new Error(`short write to ${seg.path}: ${bytesWritten} of ${bytes}`), { code: 'ENOSPC' });
      if (sync) await fh.datasync();
    } catch (err) {
      // Take a partial write back off the file, so the next record follows a whole one.
      await fh.truncate(base).catch(() => undefined);
      throw err;
    }
    this.unsynced = !sync;
    seg.size = base + bytes;
    for (const d of data) {
      const i = seg.add(d.id, d.timeUs, base + d.relOff, d.len);
      d.indexed?.(seg, i);
    }
  }

  private async syncActive(): Promise<void> {
    const fh = this.active?.fh;
    if (fh) await fh.datasync();
    this.unsynced = false;
  }

  /** Starts a new segment whose first record is the snapshot; the file and its directory entry are synced. */
  async rotate(snapshot: Buffer): Promise<Segment> {
    if (this.unsynced) await this.syncActive();
    const seg = new Segment(this.dir, this.nextNo++);
    const fh = await seg.openFile();
    await fh.write(snapshot, 0, snapshot.length, 0);
    await fh.datasync();
    await syncDir(this.dir);
    seg.size = snapshot.length;
    this.segments.push(seg);
    return seg;
  }

  /** Deletes the oldest segment (never the active one). */
  async dropOldest(): Promise<Segment | undefined> {
    const seg = this.segments[0];
    if (!seg || seg === this.active) return undefined;
    this.segments.shift();
    await seg.close();
    await unlink(seg.path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    return seg;
  }

  async close(): Promise<void> {
    if (this.unsynced) await this.syncActive().catch(() => undefined);
    for (const s of this.segments) await s.close();
  }
}
