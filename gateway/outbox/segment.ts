// One segment file of an outbox log and its in-memory index: per DATA record its id, where its body lies, its gateway
// time and its state. About 25 bytes per record in typed arrays, so a 1 GiB backlog of ~1 KB batches costs ~25 MB.
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

export const ST_PENDING = 0; // durable, waiting to be sent
export const ST_INFLIGHT = 1; // handed to the publisher, no PUBACK yet
export const ST_ACKED = 2; // PUBACKed: may be deleted
export const ST_SHED = 3; // dropped by the quota; a Gap says so

export function segmentName(no: number): string {
  return `${String(no).padStart(12, '0')}.seg`;
}

export class Segment {
  readonly no: number;
  readonly path: string;
  /** Bytes of whole records in the file. */
  size = 0;
  count = 0;
  /** Records PENDING or INFLIGHT: the segment is deletable at 0. */
  unacked = 0;
  /** Records PENDING: the backlog scan skips the segment at 0. */
  queued = 0;
  ids = new Float64Array(64);
  times = new Float64Array(64);
  offs = new Uint32Array(64);
  lens = new Uint32Array(64);
  state = new Uint8Array(64);
  fh: FileHandle | null = null;
  private opening: Promise<FileHandle> | null = null;
  closed = false;

  constructor(dir: string, no: number) {
    this.no = no;
    this.path = join(dir, segmentName(no));
  }

  /** One read-write handle for reads and appends; writes always name their position (never O_APPEND). */
  openFile(): Promise<FileHandle> {
    this.opening ??= open(this.path, constants.O_RDWR | constants.O_CREAT, 0o600).then((fh) => (this.fh = fh));
    return this.opening;
  }

  private grow(): void {
    const n = this.ids.length * 2;
    const g = <T extends Float64Array | Uint32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.ids = g(this.ids, (k) => new Float64Array(k));
    this.times = g(this.times, (k) => new Float64Array(k));
    this.offs = g(this.offs, (k) => new Uint32Array(k));
    this.lens = g(this.lens, (k) => new Uint32Array(k));
    this.state = g(this.state, (k) => new Uint8Array(k));
  }

  /** Indexes a DATA record whose body is at [off, off+len); returns its index. */
  add(id: number, timeUs: number, off: number, len: number, state: number = ST_PENDING): number {
    if (this.count === this.ids.length) this.grow();
    const i = this.count++;
    this.ids[i] = id;
    this.times[i] = timeUs;
    this.offs[i] = off;
    this.lens[i] = len;
    this.state[i] = state;
    if (state === ST_PENDING || state === ST_INFLIGHT) this.unacked++;
    if (state === ST_PENDING) this.queued++;
    return i;
  }

  firstId(): number {
    return this.count > 0 ? (this.ids[0] ?? Infinity) : Infinity;
  }

  lastId(): number {
    return this.count > 0 ? (this.ids[this.count - 1] ?? -Infinity) : -Infinity;
  }

  /** Index of the record with this id, or -1. Ids grow within a segment. */
  indexOf(id: number): number {
    let lo = 0;
    let hi = this.count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.ids[mid] ?? 0;
      if (v === id) return mid;
      if (v < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Moves record i to a new state, keeping the counters right. */
  setState(i: number, next: number): void {
    const prev = this.state[i] ?? ST_ACKED;
    if (prev === next) return;
    const live = (s: number) => s === ST_PENDING || s === ST_INFLIGHT;
    if (live(prev) && !live(next)) this.unacked--;
    if (!live(prev) && live(next)) this.unacked++;
    if (prev === ST_PENDING) this.queued--;
    if (next === ST_PENDING) this.queued++;
    this.state[i] = next;
  }

  /** A record's body, in a buffer with `spare` bytes after it. */
  async readBody(i: number, spare = 0): Promise<Buffer> {
    const fh = await this.openFile();
    const len = this.lens[i] ?? 0;
    const buf = Buffer.allocUnsafeSlow(len + spare);
    const { bytesRead } = await fh.read(buf, 0, len, this.offs[i] ?? 0);
    if (bytesRead !== len) throw new Error(`short read in ${this.path}`);
    return buf.subarray(0, len);
  }

  async close(): Promise<void> {
    this.closed = true;
    const opening = this.opening;
    this.opening = null;
    this.fh = null;
    if (opening) await (await opening.catch(() => null))?.close();
  }
}
