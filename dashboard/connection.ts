// The dashboard's WebSocket to the fan-out: session token in the subprotocol, the beds the views want (re-sent
// with their history request after every reconnect), binary messages decoded as length-delimited Batches, text
// messages as the control protocol (fanout/protocol.ts). Reconnects with capped, jittered backoff.
import $protobuf from 'protobufjs/minimal.js';
import { Batch, Source } from '../proto/index.js';
import { peekBatch } from '../fanout/wire.js';
import type { vitalwire } from '../proto/gen/vitals.js';
import {
  CLOSE,
  SUBPROTOCOL,
  TOKEN_PREFIX,
  type BackfillRequest,
  type ServerMessage,
  type StreamName,
} from '../fanout/protocol.js';

const Reader = $protobuf.Reader;
const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 10_000;

export type ConnState = 'connecting' | 'live' | 'offline';

export interface ConnectionEvents {
  batch(b: vitalwire.v1.Batch, arrivalMs: number): void;
  /** A Batch that does not decode: what its header says of its bed, stream and seq (bed '' when even that is unreadable). */
  badBatch(bad: BadBatch, arrivalMs: number): void;
  control(m: ServerMessage): void;
  state(s: ConnState, detail: string): void;
  /** The session ended (its token expired, or its user was removed), or an upgrade failed before opening ('refused'). */
  sessionProblem(why: 'expired' | 'removed' | 'refused'): void;
}

export interface BadBatch {
  bed: string;
  kind: number;
  seq: number;
}

interface Wanted {
  streams: StreamName[];
  backfill: BackfillRequest;
}

export class Connection {
  /** server clock minus page clock, ms (from the hello) */
  clockOffsetMs = 0;
  /** page time of the last binary message */
  lastDataMs = 0;
  badMessages = 0;
  /** Batches that did not decode (VW_ERR_PAYLOAD_INVALID): each costs itself, never the rest of its message. */
  badBatches = 0;
  private ws: WebSocket | null = null;
  private readonly wanted = new Map<string, Wanted>();
  private backoffMs = BACKOFF_MIN_MS;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private isOpen = false;

  constructor(
    private token: string,
    private readonly ev: ConnectionEvents,
  ) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000, 'logout');
  }

  /** A renewed token: used for the next upgrade, and handed to the open connection. */
  setToken(token: string): void {
    this.token = token;
    this.sendJson({ op: 'renew', token });
  }

  want(bed: string, streams: StreamName[], backfill: BackfillRequest): void {
    this.wanted.set(bed, { streams, backfill });
    this.sendJson({ op: 'subscribe', bed, streams, backfill });
  }

  drop(bed: string): void {
    if (!this.wanted.delete(bed)) return;
    this.sendJson({ op: 'unsubscribe', bed });
  }

  wants(bed: string): boolean {
    return this.wanted.has(bed);
  }

  wantedKeys(): string[] {
    return [...this.wanted.keys()];
  }

  get subscribedCount(): number {
    return this.wanted.size;
  }

  now(): number {
    return Date.now() + this.clockOffsetMs;
  }

  private sendJson(m: object): void {
    if (this.ws && this.isOpen) this.ws.send(JSON.stringify(m));
  }

  private connect(): void {
    clearTimeout(this.retry);
    if (this.stopped) return;
    this.ev.state('connecting', '');
    const url = (location.protocol === 'https:' ? 'wss' : 'ws') + '://' + location.host + '/ws';
    const ws = new WebSocket(url, [SUBPROTOCOL, TOKEN_PREFIX + this.token]);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    this.isOpen = false;
    ws.onopen = () => {
      if (ws.protocol !== SUBPROTOCOL) {
        ws.close(1002, 'unsupported subprotocol');
        return;
      }
      this.isOpen = true;
      this.backoffMs = BACKOFF_MIN_MS;
      for (const [bed, w] of this.wanted)
        ws.send(JSON.stringify({ op: 'subscribe', bed, streams: w.streams, backfill: w.backfill }));
    };
    ws.onmessage = (e: MessageEvent) => this.message(e.data);
    ws.onclose = (e: CloseEvent) => {
      if (this.ws !== ws) return; // replaced or stopped
      const wasOpen = this.isOpen;
      this.ws = null;
      this.isOpen = false;
      if (e.code === CLOSE.SESSION_EXPIRED || e.code === CLOSE.USER_REMOVED) {
        this.ev.state('offline', e.code === CLOSE.USER_REMOVED ? 'access withdrawn' : 'session expired');
        this.ev.sessionProblem(e.code === CLOSE.USER_REMOVED ? 'removed' : 'expired');
        return;
      }
      if (!wasOpen) this.ev.sessionProblem('refused'); // the app checks whether the token still holds
      const delay = Math.min(BACKOFF_MAX_MS, this.backoffMs * (1 + Math.random() * 0.2));
      this.backoffMs = Math.min(BACKOFF_MAX_MS, this.backoffMs * 2);
      this.ev.state(
        'offline',
        `closed (${e.code}${e.reason ? ' ' + e.reason : ''}), retrying in ${Math.round(delay / 1000)} s`,
      );
      this.retry = setTimeout(() => this.connect(), delay);
    };
  }

  private message(data: unknown): void {
    if (typeof data === 'string') {
      let m: ServerMessage;
      try {
        m = JSON.parse(data) as ServerMessage;
      } catch {
        this.badMessages++;
        return;
      }
      if (m.type === 'hello') {
        this.clockOffsetMs = m.serverTimeMs - Date.now();
        this.ev.state('live', '');
      }
      this.ev.control(m);
      return;
    }
    if (!(data instanceof ArrayBuffer)) return;
    const arrival = Date.now();
    this.lastDataMs = arrival;
    const bytes = new Uint8Array(data);
    const r = Reader.create(bytes);
    // Several beds' Batches share one message: each is decoded on its own, so one that does not decode costs only
    // itself (issue 14 finding 11). The length prefixes are the fan-out's own; a broken one ends the message.
    while (r.pos < r.len) {
      let end: number;
      try {
        const len = r.uint32();
        end = r.pos + len;
        if (end > r.len) throw new RangeError('length beyond the message');
      } catch {
        this.badMessages++;
        return;
      }
      const start = r.pos;
      const messageEnd = r.len;
      let b: vitalwire.v1.Batch | null;
      try {
        b = Batch.decode(r, end - start);
      } catch {
        b = null;
      }
      // The generated decoder narrows r.len to the item while it reads and restores it only when it returns: after a
      // throw the reader still ends at the bad item.
      r.len = messageEnd;
      r.pos = end;
      if (b === null) {
        this.badBatches++;
        diag.badBatches++;
        this.ev.badBatch(describeBad(bytes.subarray(start, end)), arrival + this.clockOffsetMs);
        continue;
      }
      noteLatency(b);
      this.ev.batch(b, arrival + this.clockOffsetMs);
    }
  }
}

/** What the header of an undecodable Batch still says: its bed (Source), kind and seq, read field by field. */
function describeBad(payload: Uint8Array): BadBatch {
  const h = peekBatch(payload);
  if (h === null) return { bed: '', kind: 0, seq: 0 };
  let kind = 0;
  try {
    const r = Reader.create(payload);
    while (r.pos < r.len) {
      const tag = r.uint32();
      if (tag === 2 << 3) {
        kind = r.int32();
        break;
      }
      r.skipType(tag & 7);
    }
  } catch {
    kind = 0;
  }
  let bed = '';
  try {
    const s = h.sourceEnd > h.sourceStart ? Source.decode(payload.subarray(h.sourceStart, h.sourceEnd)) : null;
    if (s?.site && s.gateway && s.device) bed = `${s.site}/${s.gateway}/${s.device}`;
  } catch {
    bed = '';
  }
  return { bed, kind, seq: h.seq };
}

// Diagnostics: device-time-to-page latency of recent numerics, in ms, in a bounded ring; frame counts. Read by
// `npm run bench -- e2e` and the browser tests; handy in the console when support asks "how fresh?".
const LATENCY_RING = 4096;
export const diag = {
  latencyMs: new Float64Array(LATENCY_RING),
  count: 0,
  frames: 0,
  badBatches: 0,
  sweeps: {} as Record<string, { pen: number; drawn: number; frames: number }>,
  bed: (_key: string): { gaps: number; hrTrendMs: number[] } | null => null,
};
(globalThis as { __vitalwire?: typeof diag }).__vitalwire = diag;

function noteLatency(b: vitalwire.v1.Batch): void {
  const deviceUs = Number(b.observations[0]?.time?.deviceTimeUs ?? 0);
  if (deviceUs <= 0) return;
  diag.latencyMs[diag.count % LATENCY_RING] = performance.timeOrigin + performance.now() - deviceUs / 1000;
  diag.count++;
}
