// The durable outbox: every Batch is written here (and fsynced) before it is published, and forgotten only after the
// broker's PUBACK. Three append-only logs, one per shedding class (waveforms, numerics, alarms+status), so the disk
// quota can shed whole segment files in the documented order. Group commit: appends wait at most commitDelayMs to
// share one writev + fdatasync per log. Sequence numbers are allocated here, per stream, and survive restarts through
// the snapshot record at the head of every segment. A record whose publish would exceed the uplink's packet limit never
// enters the queue: it goes to a fourth log, the dead-letter log, and a Gap says its seq is missing (issue 14: one such
// record, resent forever, cut a gateway off for good). docs/gateway.md explains the design.
import { join } from 'node:path';
import type { Logger } from '../../lib/log.js';
import { createLogLimiter, type LogLimiter } from '../../lib/log-limiter.js';
import { streamTopic, type StreamKind } from '../../lib/topics.js';
import { encodeBatch } from '../../proto/encode-batch.js';
import { GapReason, type IGap } from '../../proto/index.js';
import { MAX_TOPIC_BYTES, storedPublishBytes } from '../publish-size.js';
import { LiveQueue } from './live-queue.js';
import { SegmentLog } from './log.js';
import {
  decodeAck,
  decodeDataHeader,
  decodeSnapshot,
  encodeAck,
  encodeData,
  encodeSnapshot,
  FLAG_RETAIN,
  PUBLISH_TAIL_MAX,
  type DataHeader,
  type Snapshot,
} from './records.js';
import { ST_ACKED, ST_INFLIGHT, ST_PENDING, ST_SHED, type Segment } from './segment.js';
import { gapsOfSegment } from './shed.js';
import {
  DEAD_LETTER_BYTES,
  KIND_NAME,
  KIND_NUMBER,
  LOG_OF,
  MAX_LIVE_BYTES,
  SHED_ORDER,
  type AppendInput,
  type LogName,
  type OutboxCounters,
  type OutboxOptions,
  type OutRecord,
} from './types.js';

export { DEAD_LETTER_BYTES, KIND_NUMBER, LOG_OF, MAX_LIVE_BYTES, SHED_ORDER } from './types.js';
export type { AppendInput, BatchBody, LogName, OutboxCounters, OutboxOptions, OutRecord } from './types.js';

/** Records over the publish limit found at start are moved this many at a time (each held in memory until durable). */
const SET_ASIDE_AT_ONCE = 16;

/** Every log a group commit writes. */
const ALL_LOGS: readonly AnyLog[] = [...SHED_ORDER, 'dead'];

/** The logs of data (not of what happened to it): replayed after the critical log. */
const DATA_LOGS: readonly LogName[] = ['wave', 'obs'];

/** Dedup refs kept per device in memory, and in each snapshot. */
/** Outbox.room(): MLLP ACKs wait above this share of the quota, and go on again below ROOM_LOW. */
export const ROOM_HIGH = 0.8;
export const ROOM_LOW = 0.7;
const REFS_IN_MEMORY = 64;
const REFS_IN_SNAPSHOT = 4;

/** The queue's logs, and the dead-letter log: what could never be published, kept and never read back. */
type AnyLog = LogName | 'dead';

interface Waiter {
  rec: OutRecord;
  log: AnyLog;
  resolve(r: OutRecord): void;
  reject(err: Error): void;
}

interface Cursor {
  segNo: number;
  index: number;
}

export class Outbox {
  readonly counters: OutboxCounters = {
    appendedRecords: 0,
    appendedBytes: 0,
    commits: 0,
    fsyncs: 0,
    writeErrors: 0,
    acked: 0,
    tornSegments: 0,
    shedRecords: { obs: 0, wave: 0, alarm: 0, status: 0 },
    shedBytes: 0,
    shedSegments: 0,
    gaps: 0,
    roomWaits: 0,
    unsendable: { obs: 0, wave: 0, alarm: 0, status: 0 },
    setAside: 0,
    deadLetterDropped: 0,
  };
  /** Newest durable gateway time per device found at start (for restart gaps). */
  readonly recoveredLastUs = new Map<string, number>();
  private readonly o: OutboxOptions;
  private readonly logs: Record<LogName, SegmentLog>;
  private readonly dead: SegmentLog;
  private readonly log: Logger;
  private readonly limited: LogLimiter;
  private readonly topicBytes = new Map<string, number>();
  private trimming = false;
  private nextId = 1;
  private readonly allocated = new Map<string, number>();
  private readonly durable = new Map<string, number>();
  private readonly lastUs = new Map<string, number>();
  private readonly refs = new Map<string, Map<string, Promise<unknown>>>();
  private waiters: Waiter[] = [];
  /** The appends of the group commit being written now (neither staged nor durable). */
  private writing: Waiter[] = [];
  private stagedBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  private timerDue = 0;
  private committing: Promise<void> | null = null;
  private shedding = false;
  private closed = false;
  private online = false;
  private boundary = 0;
  private readonly live = new LiveQueue();
  private readonly cursors: Record<LogName, Cursor> = {
    wave: { segNo: 0, index: 0 },
    obs: { segNo: 0, index: 0 },
    critical: { segNo: 0, index: 0 },
  };
  private readonly pendingAcks: Record<LogName, number[]> = { wave: [], obs: [], critical: [] };
  private listener: (() => void) | null = null;

  private constructor(o: OutboxOptions) {
    this.o = o;
    this.log = o.logger.child({ component: 'outbox' });
    this.logs = {
      wave: new SegmentLog('wave', join(o.dir, 'wave'), o.segmentBytes),
      obs: new SegmentLog('obs', join(o.dir, 'obs'), o.segmentBytes),
      critical: new SegmentLog('critical', join(o.dir, 'critical'), o.segmentBytes),
    };
    this.dead = new SegmentLog('dead', join(o.dir, 'dead'), o.segmentBytes);
    this.limited = createLogLimiter({ logger: this.log });
  }

  private logOf(name: AnyLog): SegmentLog {
    return name === 'dead' ? this.dead : this.logs[name];
  }

  /** Bytes of the publish of a stored Batch of `payloadBytes` on its stream's topic, with the most the uplink adds. */
  private publishBytes(device: string, kind: StreamKind, payloadBytes: number): number {
    const k = this.key(device, kind);
    let t = this.topicBytes.get(k);
    if (t === undefined) {
      // A device id no topic can carry (never from a valid config) is measured at the longest topic.
      try {
        t = Buffer.byteLength(streamTopic(this.o.site, this.o.gateway, device, kind));
      } catch {
        t = MAX_TOPIC_BYTES;
      }
      this.topicBytes.set(k, t);
    }
    return storedPublishBytes(t, payloadBytes);
  }

  /** Would this record's publish exceed the uplink's limit? Its packet size when so, else 0. */
  private overLimit(device: string, kind: StreamKind, payloadBytes: number): number {
    const max = this.o.maxPacketBytes;
    if (max === undefined) return 0;
    const bytes = this.publishBytes(device, kind, payloadBytes);
    return bytes > max ? bytes : 0;
  }

  /** Opens (and recovers) the outbox in `dir`: torn tails are truncated, acknowledged records forgotten. */
  static async open(o: OutboxOptions): Promise<Outbox> {
    const box = new Outbox(o);
    await box.recover();
    return box;
  }

  private key(device: string, kind: StreamKind): string {
    return `${device}/${kind}`;
  }

  private async recover(): Promise<void> {
    const snapshots: Snapshot[] = [];
    let records = 0;
    /** Stored records whose publish would exceed the limit (a gateway upgraded onto an outbox that holds them). */
    const poisoned: { seg: Segment; index: number; header: DataHeader; payloadOffset: number }[] = [];
    const torn = (path: string, kept: number, dropped: number) => {
      this.counters.tornSegments++;
      this.log.warn(
        { code: 'VW_ERR_OUTBOX_TORN', segment: path, keptBytes: kept, droppedBytes: dropped },
        'outbox segment had a torn tail: truncated',
      );
    };
    // The dead-letter log is never read back; its records' seqs count, so a seq set aside is never reused.
    await this.dead.recover({
      data: (seg, i, body) => {
        seg.setState(i, ST_ACKED);
        const h = decodeDataHeader(body)?.header;
        const kind = h ? KIND_NAME[h.kind] : undefined;
        if (!h || !kind || h.seq === 0) return;
        const k = this.key(h.device, kind);
        if (h.seq > (this.durable.get(k) ?? 0)) this.durable.set(k, h.seq);
      },
      ack: () => undefined,
      snapshot: (body) => {
        const s = decodeSnapshot(body);
        if (s) snapshots.push(s);
      },
      torn,
    });
    for (const name of SHED_ORDER) {
      await this.logs[name].recover({
        data: (seg, i, body) => {
          records++;
          const d = decodeDataHeader(body);
          const h = d?.header;
          if (!d || !h) return;
          const kind = KIND_NAME[h.kind];
          if (kind && this.overLimit(h.device, kind, body.length - d.payloadOffset) > 0)
            poisoned.push({ seg, index: i, header: h, payloadOffset: d.payloadOffset });
          if (kind) {
            const k = this.key(h.device, kind);
            if (h.seq > (this.durable.get(k) ?? 0)) this.durable.set(k, h.seq);
          }
          if (h.toUs > (this.lastUs.get(h.device) ?? 0)) this.lastUs.set(h.device, h.toUs);
          if (h.ref) this.rememberRef(h.device, h.ref, Promise.resolve());
          this.nextId = Math.max(this.nextId, (seg.ids[i] ?? 0) + 1);
        },
        ack: (log, body) => {
          for (const id of decodeAck(body)) {
            const at = log.find(id);
            if (at && at.seg.state[at.index] !== ST_ACKED) at.seg.setState(at.index, ST_ACKED);
          }
        },
        snapshot: (body) => {
          const s = decodeSnapshot(body);
          if (s) snapshots.push(s);
        },
        torn,
      });
    }
    for (const s of snapshots) {
      this.nextId = Math.max(this.nextId, s.nextId);
      for (const [k, v] of Object.entries(s.seqs)) if (v > (this.durable.get(k) ?? 0)) this.durable.set(k, v);
      for (const [d, v] of Object.entries(s.lastUs)) if (v > (this.lastUs.get(d) ?? 0)) this.lastUs.set(d, v);
      for (const [d, list] of Object.entries(s.refs)) for (const r of list) this.rememberRef(d, r, Promise.resolve());
    }
    for (const [k, v] of this.durable) this.allocated.set(k, v);
    for (const [d, v] of this.lastUs) this.recoveredLastUs.set(d, v);
    // Stored by a gateway without the limit (or a larger one): resending them would loop forever. Set aside now, before
    // the uplink starts, each with its Gap.
    let moving: Promise<void>[] = [];
    for (const p of poisoned) {
      const kind = KIND_NAME[p.header.kind];
      if (!kind || p.seg.state[p.index] !== ST_PENDING) continue;
      if (moving.length >= SET_ASIDE_AT_ONCE) {
        await Promise.all(moving); // each holds its record's bytes until durable
        moving = [];
      }
      p.seg.setState(p.index, ST_INFLIGHT);
      const body = await p.seg.readBody(p.index, PUBLISH_TAIL_MAX);
      const h = p.header;
      const rec: OutRecord = {
        id: h.id,
        seq: h.seq,
        device: h.device,
        kind,
        payload: body.subarray(p.payloadOffset),
        wire: body.subarray(p.payloadOffset),
        retain: (h.flags & FLAG_RETAIN) !== 0,
        fromUs: h.fromUs,
        backfill: true,
        seg: p.seg,
        index: p.index,
      };
      moving.push(this.setAsideStored(rec, h.toUs));
    }
    await Promise.all(moving);
    for (const name of SHED_ORDER) await this.collect(name);
    this.log.info({ records, pending: this.depth(), bytes: this.diskBytes() }, 'outbox opened');
  }

  private rememberRef(device: string, ref: string, done: Promise<unknown>): void {
    let m = this.refs.get(device);
    if (!m) this.refs.set(device, (m = new Map()));
    m.delete(ref);
    m.set(ref, done);
    if (m.size > REFS_IN_MEMORY) {
      const oldest = m.keys().next().value;
      if (oldest !== undefined) m.delete(oldest);
    }
  }

  /** When this input was already stored (an MLLP resend): a promise of its durability; otherwise undefined. */
  seen(device: string, ref: string): Promise<unknown> | undefined {
    return this.refs.get(device)?.get(ref);
  }

  /** Highest seq allocated so far per stream (tests and status). */
  lastSeq(device: string, kind: StreamKind): number {
    return this.allocated.get(this.key(device, kind)) ?? 0;
  }

  /** Encodes, numbers and stores one Batch; resolves once it is durable (fsynced), rejects on a write error. */
  append(input: AppendInput): Promise<OutRecord> {
    if (this.closed) return Promise.reject(new Error('outbox closed'));
    if (input.setAside) return this.keepAside(input);
    const k = this.key(input.source.device, input.kind);
    const seq = (this.allocated.get(k) ?? 0) + 1;
    this.allocated.set(k, seq);
    const id = this.nextId++;
    const kind = KIND_NUMBER[input.kind];
    const payload = encodeBatch({ ...input.body, source: input.source, kind, seq });
    const retain = input.retain === true;
    const enc = encodeData(
      {
        id,
        seq,
        fromUs: input.fromUs,
        toUs: input.toUs,
        kind,
        flags: retain ? FLAG_RETAIN : 0,
        device: input.source.device,
        ref: input.ref ?? '',
      },
      payload,
    );
    // One buffer per record: the frame written to disk, and (from payloadOffset) what is published.
    const frame = enc.buf.subarray(0, enc.frameLength);
    const wire = enc.buf.subarray(enc.payloadOffset);
    const rec: OutRecord = {
      id,
      seq,
      device: input.source.device,
      kind: input.kind,
      payload: wire.subarray(0, payload.length),
      wire,
      retain,
      fromUs: input.fromUs,
      backfill: false,
      seg: null,
      index: -1,
    };
    const over = this.overLimit(rec.device, rec.kind, payload.length);
    let p: Promise<OutRecord>;
    if (over > 0) {
      // Never publishable: stored in the dead-letter log (rec.seg stays null: never queued), its seq covered by a Gap.
      p = this.unsendable(rec, input.toUs, over, this.stageDead(frame, rec));
    } else {
      const logName = LOG_OF[input.kind];
      this.logs[logName].stageData(frame, id, input.fromUs, (seg, index) => {
        rec.seg = seg;
        rec.index = index;
      });
      this.stagedBytes += frame.length;
      this.counters.appendedRecords++;
      this.counters.appendedBytes += frame.length;
      p = new Promise<OutRecord>((resolve, reject) => this.waiters.push({ rec, log: logName, resolve, reject }));
    }
    if (input.ref) {
      const ref = input.ref;
      const device = input.source.device;
      // Remembered as a bare durability promise: holding the record would hold its payload.
      const durable = p.then(() => undefined);
      durable.catch(() => this.refs.get(device)?.delete(ref));
      this.rememberRef(device, ref, durable);
    }
    this.schedule();
    return p;
  }

  // ---- the dead-letter log ---------------------------------------------------------------------

  /** Stages a DATA frame in the dead-letter log; resolves when durable (with the next group commit). */
  private stageDead(frame: Buffer, rec: OutRecord): Promise<OutRecord> {
    this.dead.stageData(frame, rec.id, rec.fromUs);
    this.stagedBytes += frame.length;
    const p = new Promise<OutRecord>((resolve, reject) => this.waiters.push({ rec, log: 'dead', resolve, reject }));
    this.schedule();
    return p;
  }

  /** The whole of an item whose text was cut (AppendInput.setAside): kept, no seq, no Gap (its cut copy is published). */
  private keepAside(input: AppendInput): Promise<OutRecord> {
    const kind = KIND_NUMBER[input.kind];
    const payload = encodeBatch({ ...input.body, source: input.source, kind, seq: 0 });
    const enc = encodeData(
      { id: 0, seq: 0, fromUs: input.fromUs, toUs: input.toUs, kind, flags: 0, device: input.source.device, ref: '' },
      payload,
    );
    const rec: OutRecord = {
      id: 0,
      seq: 0,
      device: input.source.device,
      kind: input.kind,
      payload,
      wire: payload,
      retain: false,
      fromUs: input.fromUs,
      backfill: false,
      seg: null,
      index: -1,
    };
    this.counters.setAside++;
    return this.stageDead(enc.buf.subarray(0, enc.frameLength), rec);
  }

  /** A record set aside: counted, logged (device, kind, seq, size; never values), its seq declared missing by a Gap. */
  private unsendable(rec: OutRecord, toUs: number, bytes: number, stored: Promise<OutRecord>): Promise<OutRecord> {
    this.counters.unsendable[rec.kind]++;
    this.limited.log(
      `${rec.device}|${rec.kind}`,
      'warn',
      {
        code: 'VW_ERR_UNSENDABLE',
        device: rec.device,
        kind: rec.kind,
        seq: rec.seq,
        bytes,
        maxBytes: this.o.maxPacketBytes,
      },
      'batch larger than the publish limit: set aside in the dead-letter log, Gap stored',
    );
    const nowUs = this.o.nowUs?.() ?? Date.now() * 1000;
    const gap: IGap = {
      kind: KIND_NUMBER[rec.kind],
      fromSeq: rec.seq,
      toSeq: rec.seq,
      fromTimeUs: rec.fromUs,
      toTimeUs: toUs,
      reason: GapReason.GAP_REASON_UNSENDABLE,
    };
    const marked = this.append({
      source: { site: this.o.site, gateway: this.o.gateway, device: rec.device },
      kind: 'status',
      fromUs: nowUs,
      toUs: nowUs,
      body: { gaps: [gap] },
    });
    return Promise.all([stored, marked]).then(() => rec);
  }

  /** A queued record (in flight) that can never be published: copied to the dead-letter log with its Gap, then forgotten. */
  private async setAsideStored(r: OutRecord, toUs: number): Promise<void> {
    const enc = encodeData(
      {
        id: r.id,
        seq: r.seq,
        fromUs: r.fromUs,
        toUs,
        kind: KIND_NUMBER[r.kind],
        flags: r.retain ? FLAG_RETAIN : 0,
        device: r.device,
        ref: '',
      },
      r.payload,
    );
    const copy: OutRecord = { ...r, seg: null, index: -1 };
    try {
      // Forgotten only once the copy and its Gap are durable.
      await this.unsendable(
        copy,
        toUs,
        this.publishBytes(r.device, r.kind, r.payload.length),
        this.stageDead(enc.buf.subarray(0, enc.frameLength), copy),
      );
      this.forget(r);
    } catch (err) {
      this.log.error(
        { code: 'VW_ERR_OUTBOX_IO', err: (err as Error).message },
        'setting a record aside failed: it stays queued',
      );
      this.nack(r);
    }
  }

  /**
   * The uplink holds a record (taken, in flight) whose publish would exceed its limit: it goes to the dead-letter log
   * with its Gap instead (the outbox stores none such since it has the limit; this covers an uplink limit lower than
   * the outbox's).
   */
  setAside(r: OutRecord): void {
    if (!this.inFlight(r)) return;
    void this.setAsideStored(r, r.fromUs);
  }

  /** Bytes of the dead-letter log's files. */
  deadLetterBytes(): number {
    return this.dead.diskBytes();
  }

  /** Deletes the oldest dead-letter segments while the log is over its cap (never the active one). */
  private async trimDead(): Promise<void> {
    const cap = this.o.deadLetterBytes ?? DEAD_LETTER_BYTES;
    if (this.trimming || this.dead.diskBytes() <= cap) return;
    this.trimming = true;
    try {
      while (this.dead.diskBytes() > cap && this.dead.segments.length >= 2 && !this.closed) {
        const seg = await this.dead.dropOldest();
        this.counters.deadLetterDropped++;
        this.limited.log(
          'dead-letter-cap',
          'warn',
          { code: 'VW_ERR_UNSENDABLE', bytes: seg?.size ?? 0, capBytes: cap },
          'dead-letter log over its cap: its oldest segment deleted',
        );
      }
    } catch (err) {
      this.log.error({ code: 'VW_ERR_OUTBOX_IO', err: (err as Error).message }, 'dead-letter trim failed');
    } finally {
      this.trimming = false;
    }
  }

  private schedule(): void {
    if (this.committing || this.closed) return;
    const hasData = this.waiters.length > 0;
    const hasAcks = SHED_ORDER.some((n) => this.pendingAcks[n].length > 0);
    if (!hasData && !hasAcks) return;
    const delay = !hasData
      ? (this.o.ackFlushMs ?? 1000)
      : this.stagedBytes >= this.o.commitMaxBytes
        ? 0
        : this.o.commitDelayMs;
    const due = Date.now() + delay;
    // A data append must not wait behind the longer timer of ACK records.
    if (this.timer) {
      if (due >= this.timerDue) return;
      clearTimeout(this.timer);
    }
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.commit();
    }, delay);
  }

  /** Writes everything staged now (group commit); resolves when it is durable. */
  async commit(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.committing) await this.committing;
    const waiters = this.waiters;
    this.waiters = [];
    this.writing = waiters;
    this.stagedBytes = 0;
    for (const name of SHED_ORDER) {
      const ids = this.pendingAcks[name];
      if (ids.length > 0) {
        this.logs[name].stageRaw(encodeAck(ids));
        this.pendingAcks[name] = [];
      }
    }
    let backlogDurable = false;
    const run = async () => {
      const withData = new Set(waiters.map((w) => w.log));
      const results = await Promise.allSettled(
        ALL_LOGS.map((n) => this.logOf(n).flush(withData.has(n), () => encodeSnapshot(this.snapshot()))),
      );
      this.counters.commits++;
      const failed = new Map<AnyLog, Error>();
      ALL_LOGS.forEach((n, i) => {
        const r = results[i];
        if (withData.has(n) && r?.status === 'fulfilled') this.counters.fsyncs++;
        if (r?.status === 'rejected') {
          const err = r.reason instanceof Error ? r.reason : new Error(String(r.reason));
          failed.set(n, err);
          this.counters.writeErrors++;
          this.log.error({ code: 'VW_ERR_OUTBOX_IO', log: n, err: err.message }, 'outbox write failed');
        }
      });
      this.writing = [];
      for (const w of waiters) {
        const err = failed.get(w.log);
        if (err) {
          w.reject(Object.assign(new Error(`outbox write failed: ${err.message}`), { code: 'VW_ERR_OUTBOX_IO' }));
          continue;
        }
        const r = w.rec;
        const k = this.key(r.device, r.kind);
        if (r.seq > (this.durable.get(k) ?? 0)) this.durable.set(k, r.seq);
        if (w.log === 'dead') {
          w.resolve(r); // kept, never queued
          continue;
        }
        if (r.fromUs > (this.lastUs.get(r.device) ?? 0)) this.lastUs.set(r.device, r.fromUs);
        if (this.online && r.id >= this.boundary) {
          // The publisher is not keeping up: the oldest live records stay on disk and become backlog.
          const overflow = this.live.push(r, this.o.maxLiveBytes ?? MAX_LIVE_BYTES);
          if (overflow > 0) this.boundary = Math.max(this.boundary, overflow + 1);
        } else if (this.online) {
          // Appended before the connect, durable only now: backlog, like everything stored before it.
          backlogDurable = true;
        }
        w.resolve(r);
      }
    };
    this.committing = run();
    try {
      await this.committing;
    } finally {
      this.committing = null;
    }
    if (this.live.has() || backlogDurable) this.listener?.();
    this.schedule();
    if (this.diskBytes() > this.o.quotaBytes) void this.shed();
    void this.trimDead();
  }

  private snapshot(): Snapshot {
    const refs: Record<string, string[]> = {};
    for (const [d, m] of this.refs) refs[d] = [...m.keys()].slice(-REFS_IN_SNAPSHOT);
    return {
      v: 1,
      nextId: this.nextId,
      seqs: Object.fromEntries(this.durable),
      lastUs: Object.fromEntries(this.lastUs),
      refs,
    };
  }

  // ---- live path and backlog ----------------------------------------------------------------

  /** Called (once per commit) when live records are waiting, or backlog records appended before the connect became
   *  durable. */
  onLive(fn: () => void): void {
    this.listener = fn;
  }

  /** Online: everything stored until now is backlog; what is committed from now on is live. Offline: nothing is. */
  setOnline(on: boolean): void {
    this.online = on;
    this.live.clear();
    if (on) {
      this.boundary = this.nextId;
      for (const n of SHED_ORDER) this.cursors[n] = { segNo: 0, index: 0 };
    }
  }

  /** The next live record (durable, committed while online), marked in flight. */
  takeLive(): OutRecord | undefined {
    for (let r = this.live.shift(); r !== undefined; r = this.live.shift()) {
      if (r.seg && r.seg.state[r.index] === ST_PENDING) {
        r.seg.setState(r.index, ST_INFLIGHT);
        return r;
      }
    }
    return undefined;
  }

  hasLive(): boolean {
    return this.live.has();
  }

  private peek(name: LogName): { seg: Segment; index: number; id: number } | null {
    const c = this.cursors[name];
    for (const seg of this.logs[name].segments) {
      if (seg.no < c.segNo) continue;
      if (seg.no > c.segNo) {
        c.segNo = seg.no;
        c.index = 0;
      }
      if (seg.queued === 0) {
        c.index = seg.count;
        continue;
      }
      for (let i = c.index; i < seg.count; i++) {
        const id = seg.ids[i] ?? 0;
        if (id >= this.boundary) {
          c.index = i;
          return null;
        }
        if (seg.state[i] === ST_PENDING) {
          c.index = i;
          return { seg, index: i, id };
        }
      }
      c.index = seg.count;
    }
    return null;
  }

  /**
   * Up to `max` backlog records (stored before the last reconnect), marked in flight: alarms, status and Gap markers
   * (the critical log) first, since they say what happened while the uplink was down and the live status waits for
   * them (publisher.ts); then numerics and waveforms oldest first. Each stream lives in one log and is read in record-id
   * order, so each stream replays in seq order.
   */
  async takeBacklog(max: number): Promise<OutRecord[]> {
    if (!this.online) return [];
    const picked: { seg: Segment; index: number; id: number }[] = [];
    while (picked.length < max) {
      const critical = this.peek('critical');
      let best: { seg: Segment; index: number; id: number; name: LogName } | null = critical
        ? { ...critical, name: 'critical' }
        : null;
      for (const name of DATA_LOGS) {
        if (critical) break;
        const p = this.peek(name);
        if (p && (!best || p.id < best.id)) best = { ...p, name };
      }
      if (!best) break;
      best.seg.setState(best.index, ST_INFLIGHT);
      this.cursors[best.name].index = best.index + 1;
      picked.push(best);
    }
    const out: OutRecord[] = [];
    for (const p of picked) {
      let body: Buffer;
      try {
        body = await p.seg.readBody(p.index, PUBLISH_TAIL_MAX);
      } catch (err) {
        if (p.seg.state[p.index] === ST_INFLIGHT) p.seg.setState(p.index, p.seg.closed ? ST_SHED : ST_PENDING);
        if (!p.seg.closed)
          this.log.warn({ code: 'VW_ERR_OUTBOX_IO', err: (err as Error).message }, 'outbox read failed');
        continue;
      }
      const d = decodeDataHeader(body);
      const kind = d ? KIND_NAME[d.header.kind] : undefined;
      if (!d || !kind || p.seg.state[p.index] !== ST_INFLIGHT) continue;
      const h = d.header;
      // readBody left PUBLISH_TAIL_MAX spare bytes after the body in the same allocation.
      const wire = Buffer.from(
        body.buffer,
        body.byteOffset + d.payloadOffset,
        body.length - d.payloadOffset + PUBLISH_TAIL_MAX,
      );
      out.push({
        id: h.id,
        seq: h.seq,
        device: h.device,
        kind,
        payload: body.subarray(d.payloadOffset),
        wire,
        retain: (h.flags & FLAG_RETAIN) !== 0,
        fromUs: h.fromUs,
        backfill: true,
        seg: p.seg,
        index: p.index,
      });
    }
    return out;
  }

  /** Still in flight (not shed by the quota since it was taken)? */
  inFlight(r: OutRecord): boolean {
    return r.seg !== null && !r.seg.closed && r.seg.state[r.index] === ST_INFLIGHT;
  }

  /** Is anything stored before the last reconnect (of one log, or of any) still waiting to be taken? */
  hasBacklog(log?: LogName): boolean {
    if (!this.online) return false;
    if (log) return this.peek(log) !== null;
    return SHED_ORDER.some((n) => this.peek(n) !== null);
  }

  /**
   * Are records appended before the last reconnect (of one log, or of any) still on their way to disk? They are
   * backlog too, and takeBacklog will return them once durable (the onLive listener says when).
   */
  backlogInWrite(log?: LogName): boolean {
    if (!this.online) return false;
    const before = (ws: readonly Waiter[]) =>
      ws.some((w) => w.log !== 'dead' && w.rec.id < this.boundary && (log === undefined || w.log === log));
    return before(this.writing) || before(this.waiters);
  }

  /** The broker acknowledged the record: it may go. */
  ack(r: OutRecord): void {
    if (this.forget(r)) this.counters.acked++;
  }

  /** An in-flight record leaves the queue (an ACK record says so on disk). */
  private forget(r: OutRecord): boolean {
    const seg = r.seg;
    if (!seg || seg.closed || seg.state[r.index] !== ST_INFLIGHT) return false;
    seg.setState(r.index, ST_ACKED);
    const name = LOG_OF[r.kind];
    this.pendingAcks[name].push(r.id);
    if (seg.unacked === 0) void this.collect(name);
    this.schedule();
    return true;
  }

  /** The record was not acknowledged (connection lost): it goes back to the backlog. */
  nack(r: OutRecord): void {
    const seg = r.seg;
    if (!seg || seg.closed || seg.state[r.index] !== ST_INFLIGHT) return;
    seg.setState(r.index, ST_PENDING);
    const name = LOG_OF[r.kind];
    const c = this.cursors[name];
    if (seg.no < c.segNo || (seg.no === c.segNo && r.index < c.index))
      this.cursors[name] = { segNo: seg.no, index: r.index };
    this.boundary = Math.max(this.boundary, r.id + 1);
  }

  /** Deletes the oldest segments of a log while nothing in them waits for a PUBACK. */
  private async collect(name: LogName): Promise<void> {
    const log = this.logs[name];
    for (;;) {
      const first = log.segments[0];
      if (!first || first === log.active || first.unacked > 0) {
        this.wakeRoom();
        return;
      }
      await log.dropOldest();
    }
  }

  // ---- room for senders that can wait ---------------------------------------------------------
  // An MLLP sender waits for each ACK and resends on its own: it can be slowed, unlike a streaming device. Near the
  // quota its ACK waits for room (transports/mllp-listener.ts), so its messages stop before the quota sheds anything:
  // back-pressure through deferred ACKs instead of shedding what the sender was told is safe. Hysteresis: wait above
  // ROOM_HIGH of the quota, go on below ROOM_LOW.
  private roomWaiters: (() => void)[] = [];

  /** Resolves when the outbox is below its high-water mark (at once if it is), or when it closes. */
  room(): Promise<void> {
    if (this.closed || this.diskBytes() <= this.o.quotaBytes * ROOM_HIGH) return Promise.resolve();
    this.counters.roomWaits++;
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  private wakeRoom(): void {
    if (this.roomWaiters.length === 0 || (!this.closed && this.diskBytes() > this.o.quotaBytes * ROOM_LOW)) return;
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const w of waiters) w();
  }

  // ---- quota ---------------------------------------------------------------------------------

  diskBytes(): number {
    return this.logs.wave.diskBytes() + this.logs.obs.diskBytes() + this.logs.critical.diskBytes();
  }

  /** Records stored and not yet acknowledged (including those in flight and staged). */
  depth(): number {
    let n = this.waiters.length;
    for (const name of SHED_ORDER) for (const s of this.logs[name].segments) n += s.unacked;
    return n;
  }

  /** Gateway time of the oldest record not yet acknowledged, or null. */
  oldestUnsentUs(): number | null {
    let best: number | null = null;
    for (const name of SHED_ORDER) {
      for (const s of this.logs[name].segments) {
        if (s.unacked === 0) continue;
        for (let i = 0; i < s.count; i++) {
          const st = s.state[i];
          if (st === ST_PENDING || st === ST_INFLIGHT) {
            const t = s.times[i] ?? 0;
            if (best === null || t < best) best = t;
            break;
          }
        }
        break;
      }
    }
    return best;
  }

  /** Over quota: sheds whole oldest segments in SHED_ORDER; each shed range becomes a Gap on the device's status. */
  private async shed(): Promise<void> {
    if (this.shedding || this.closed) return;
    this.shedding = true;
    try {
      while (this.diskBytes() > this.o.quotaBytes && !this.closed) {
        const name = SHED_ORDER.find((n) => this.logs[n].segments.length >= 2);
        if (!name) break;
        const log = this.logs[name];
        const seg = log.segments[0];
        if (!seg) break;
        const { gaps, records, byKind } = await gapsOfSegment(seg);
        for (let i = 0; i < seg.count; i++) {
          const st = seg.state[i];
          if (st === ST_PENDING || st === ST_INFLIGHT) seg.setState(i, ST_SHED);
        }
        for (const [k, n] of Object.entries(byKind)) this.counters.shedRecords[k as StreamKind] += n;
        this.counters.shedBytes += seg.size;
        this.counters.shedSegments++;
        this.log.warn(
          { code: 'VW_ERR_OUTBOX_SHED', log: name, records, bytes: seg.size, quotaBytes: this.o.quotaBytes },
          'outbox quota reached: oldest segment shed',
        );
        const nowUs = this.o.nowUs?.() ?? Date.now() * 1000;
        const marks: Promise<OutRecord>[] = [];
        for (const [device, list] of gaps) {
          const g: IGap[] = list.map((x) => ({ ...x, reason: GapReason.GAP_REASON_SHED_QUOTA }));
          this.counters.gaps += g.length;
          marks.push(
            this.append({
              source: { site: this.o.site, gateway: this.o.gateway, device },
              kind: 'status',
              fromUs: nowUs,
              toUs: nowUs,
              body: { gaps: g },
            }),
          );
        }
        // The Gap markers are durable before the data they describe is deleted.
        await Promise.all(marks);
        if (log.segments[0] === seg) await log.dropOldest();
      }
    } catch (err) {
      this.log.error({ code: 'VW_ERR_OUTBOX_IO', err: (err as Error).message }, 'shedding failed');
    } finally {
      this.shedding = false;
      this.wakeRoom();
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.commit();
    while (this.shedding) await new Promise((r) => setTimeout(r, 5));
    await this.commit();
    this.closed = true;
    this.wakeRoom(); // a held sender is answered (its message is stored) rather than left waiting on a closed outbox
    if (this.timer) clearTimeout(this.timer);
    for (const name of SHED_ORDER) await this.logs[name].close();
    await this.dead.close();
    this.limited.close();
  }
}
