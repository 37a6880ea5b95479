// Staged writes: one socket write per connection per turn of the event loop, in place of the six writes and the cork
// mqtt-packet's writeToStream makes per PUBLISH. It depends on how mqtt-packet 9 writes (pieces through
// Writable.write, a cork when the stream offers one), so it lives behind the adapter (index.ts) that checks the
// installed version. docs/broker.md "The hot path" has the figures.
import type { Duplex } from 'node:stream';

/** A connection's staged bytes: what mqtt-packet wrote to it during this turn of the event loop. */
interface Stage {
  stream: Duplex;
  /** The stream's own write, end and destroy, called after what is staged. */
  write: Duplex['write'];
  end: Duplex['end'];
  destroy: Duplex['destroy'];
  /** The stream's writableHighWaterMark, read once: it does not change, and commit() runs per write. */
  hwm: number;
  slab: Buffer | null;
  used: number;
  queued: boolean;
  /** A staged batch handed to the socket has not completed yet (see coalesceWrites). */
  inFlight: boolean;
  /** The callback of the batch in flight: it sends what was staged meanwhile. */
  done: () => void;
}

// One slab holds a TLS record's worth, the socket's high-water mark; a batch that fills it leaves early.
const SLAB_BYTES = 16 * 1024;
// A batch smaller than this is copied out into Buffer's shared pool (no allocation of its own) and its slab goes back
// to `spareSlabs` for the next connection that writes; a larger one leaves in the slab itself. Only connections with
// bytes staged in this turn hold a slab: thousands of idle gateways hold none.
const POOLED_BYTES = 4096;
const MAX_SPARE_SLABS = 64;
const spareSlabs: Buffer[] = [];

let pending: Stage[] = [];

/** Each staged stream's stage, for the packet writer (fast-write.ts) that serializes straight into the slab. */
const STAGE = Symbol('vitalwire.stage');
type Staged = Duplex & { [STAGE]?: Stage };

/** A stage with room reserved: the caller fills `slab` from `used` with the bytes promised to stageCommit. */
export interface StageRoom {
  readonly slab: Buffer;
  readonly used: number;
}

function flushPending(): void {
  const list = pending;
  pending = [];
  for (let i = 0; i < list.length; i++) {
    const s = list[i] as Stage;
    s.queued = false;
    if (!s.inFlight) flushStage(s);
  }
}

function spare(slab: Buffer): void {
  if (spareSlabs.length < MAX_SPARE_SLABS) spareSlabs.push(slab);
}

function flushStage(s: Stage): boolean {
  const slab = s.slab;
  if (slab === null) return true;
  const used = s.used;
  s.used = 0;
  s.slab = null;
  if (used === 0) {
    spare(slab);
    return true;
  }
  if (s.stream.destroyed || s.stream.writableEnded) {
    spare(slab); // destroy() and end() handed over what was staged before; nothing can follow
    return false;
  }
  let out: Buffer;
  if (used < POOLED_BYTES) {
    out = Buffer.allocUnsafe(used);
    slab.copy(out, 0, 0, used);
    spare(slab);
  } else {
    out = slab.subarray(0, used); // the socket may hold it until written: not reused
  }
  s.inFlight = true;
  return (s.write as (chunk: Buffer, cb: () => void) => boolean).call(s.stream, out, s.done);
}

/**
 * Gathers every write a connection gets within one turn of the event loop into one buffer, handed to the socket once:
 * one Writable.write, one SSL_write, one system call. mqtt-packet writes a PUBLISH as six pieces (header, length,
 * topic length, topic, message id, payload) and a PUBACK as three, each a Writable.write with its own bookkeeping,
 * and corks per packet with a process.nextTick to uncork: per message, more work than the encryption. Here each piece
 * is copied into a per-connection slab instead, and the stream offers mqtt-packet no cork (it checks for one), so no
 * tick is spent per packet.
 *
 * A batch leaves early once the socket's unsent bytes and the slab together reach the high-water mark (16 KiB on a
 * socket, one TLS record): writableLength under-counts what waits by at most that much, so the slow-subscriber bound
 * holds, and write() returns false exactly when the socket will emit 'drain'. Writes with a callback, or after the
 * end, go straight through after what is staged. end() and destroy() first hand over what is staged, as an unstaged
 * write would already have been, so a refusing CONNACK or the PUBACKs before a disconnect still leave.
 *
 * One batch in flight at a time: while the socket has not completed the last one (a TLS socket completes every write a
 * turn later, in an immediate, even when the system call took it all), the turn's bytes stay staged and leave when it
 * completes, instead of waiting in Writable's buffer for a second SSL_write by writev. Profiled on one core at 10,000
 * msgs/s, that writev was 8 % of the broker's busy time (docs/broker.md "Profile"). A full slab, the high-water mark,
 * a direct write, end() and destroy() still hand the stage over at once, so what waits unseen stays under one slab.
 */
export function coalesceWrites(stream: Duplex): void {
  const s: Stage = {
    stream,
    write: stream.write,
    end: stream.end,
    destroy: stream.destroy,
    hwm: stream.writableHighWaterMark,
    slab: null,
    used: 0,
    queued: false,
    inFlight: false,
    done: () => {
      s.inFlight = false;
      if (s.used > 0) flushStage(s);
    },
  };
  (stream as Staged)[STAGE] = s;
  (stream as { cork?: unknown }).cork = undefined;
  // Shared functions that find the stage on the stream: a connection holds one closure (`done`), not five.
  stream.destroy = flushThenDestroy as Duplex['destroy'];
  stream.end = flushThenEnd as Duplex['end'];
  stream.write = stagedWrite as Duplex['write'];
}

/** After what is staged: a write the stage does not take. */
function direct(s: Stage, args: unknown[]): boolean {
  flushStage(s);
  return (s.write as (...a: unknown[]) => boolean).apply(s.stream, args);
}

function flushThenDestroy(this: Staged, ...args: Parameters<Duplex['destroy']>): Duplex {
  const s = this[STAGE] as Stage;
  if (!this.destroyed && !this.writableEnded) flushStage(s);
  return s.destroy.apply(this, args);
}

function flushThenEnd(this: Staged, ...args: unknown[]): Duplex {
  const s = this[STAGE] as Stage;
  if (!this.destroyed && !this.writableEnded) flushStage(s);
  return (s.end as (...a: unknown[]) => Duplex).apply(this, args);
}

function stagedWrite(this: Staged, chunk: unknown, encoding?: unknown, cb?: unknown): boolean {
  const s = this[STAGE] as Stage;
  if (cb !== undefined || typeof encoding === 'function' || this.destroyed || this.writableEnded)
    return direct(s, [chunk, encoding, cb].slice(0, arguments.length));
  let len: number;
  const str = typeof chunk === 'string';
  if (str) {
    if (encoding !== undefined && encoding !== 'utf8' && encoding !== 'utf-8') return direct(s, [chunk, encoding]);
    len = Buffer.byteLength(chunk);
  } else if (chunk instanceof Uint8Array) {
    len = chunk.length;
  } else {
    return direct(s, [chunk, encoding].slice(0, arguments.length)); // let Writable raise its own error
  }
  if (s.slab !== null && s.used + len > s.slab.length) flushStage(s);
  if (len >= SLAB_BYTES) return direct(s, [chunk]); // a large payload goes as it is, after what was staged
  if (s.slab === null) s.slab = spareSlabs.pop() ?? Buffer.allocUnsafeSlow(SLAB_BYTES);
  if (str) (s.slab as Buffer & { utf8Write(s: string, at: number, len: number): number }).utf8Write(chunk, s.used, len);
  else if (len <= 8) for (let i = 0; i < len; i++) s.slab[s.used + i] = (chunk as Uint8Array)[i] as number;
  else s.slab.set(chunk as Uint8Array, s.used);
  return commit(s, len);
}

/** Counts `len` more staged bytes, queues the turn's flush, and answers as write() would. */
function commit(s: Stage, len: number): boolean {
  s.used += len;
  if (!s.queued) {
    s.queued = true;
    if (pending.length === 0) setImmediate(flushPending);
    pending.push(s);
  }
  const waiting = s.stream.writableLength;
  const hwm = s.hwm;
  if (waiting >= hwm) return false; // the socket's last write returned false: it will emit 'drain'
  if (waiting + s.used >= hwm) return flushStage(s);
  return true;
}

/**
 * Room for `len` bytes at the end of `stream`'s stage, for a writer that serializes a whole packet in place; null when
 * the stream is not staged, has ended, or the bytes would not fit a slab (the caller writes the usual way). The caller
 * fills `slab` from `used` and then calls stageCommit with the room and the same length, before anything else is
 * written to the stream. The room is the stage itself: nothing is allocated per packet.
 */
export function stageRoom(stream: Duplex, len: number): StageRoom | null {
  const s = (stream as Staged)[STAGE];
  if (s === undefined || len >= SLAB_BYTES || stream.destroyed || stream.writableEnded) return null;
  if (s.slab !== null && s.used + len > s.slab.length) flushStage(s);
  if (s.slab === null) s.slab = spareSlabs.pop() ?? Buffer.allocUnsafeSlow(SLAB_BYTES);
  return s as StageRoom;
}

/** After stageRoom: the `len` bytes are in place. Returns what write() would have. */
export function stageCommit(room: StageRoom, len: number): boolean {
  return commit(room as Stage, len);
}
