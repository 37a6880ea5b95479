// An HL7 sender as monitors in the field behave (IHE PCD TF-2 / HL7 v2 original acknowledgement mode over MLLP): it
// dials the gateway's MLLP listener, sends one message, and waits for its ACK before the next. MSA-1 AA: the next
// message. AE (application error): the same message again after a pause. AR (rejected): HL7 says not to resend it
// unchanged, so it is dropped and counted. No ACK within ackTimeoutMs, or the connection drops: the same message
// again (same MSH-10 and content: the gateway answers a resend from its first copy). Messages queue behind the one
// in flight up to maxQueued (a monitor's buffer); beyond it the oldest is dropped and counted.
import { connect, type Socket } from 'node:net';
import { createMllpFramer } from '../decoders/framing/mllp.js';

export interface MllpClientOptions {
  host?: string;
  port: number;
  ackTimeoutMs?: number;
  /** Pause before resending after an AE or a timeout. */
  retryMs?: number;
  reconnectMs?: number;
  maxQueued?: number;
}

export interface QueuedMessage<T> {
  bytes: Buffer;
  controlId: string;
  meta: T;
}

export interface MllpClientEvents<T> {
  /** AA received: the message is durably stored at the gateway. */
  acked?(m: QueuedMessage<T>): void;
  /** AR received: dropped (never resent unchanged). */
  rejected?(m: QueuedMessage<T>): void;
  /** The queue overflowed: the oldest message was dropped. */
  dropped?(m: QueuedMessage<T>): void;
}

export interface MllpClient<T> {
  send(m: QueuedMessage<T>): void;
  readonly counters: {
    sent: number;
    resent: number;
    acked: number;
    errors: number;
    rejected: number;
    timeouts: number;
    dropped: number;
    connects: number;
  };
  readonly queued: number;
  readonly connected: boolean;
  /** Fault: stop reading ACKs for `ms` and keep sending without waiting (a peer that never reads). */
  stopReading(ms: number): void;
  /** Fault: drop the connection (the client dials again and resends what was in flight). */
  drop(): void;
  /** Resolves when nothing is queued or in flight (or after `ms`). */
  drain(ms: number): Promise<boolean>;
  close(): void;
}

/** MSA-1 and MSA-2 of an ACK message; null when it has no MSA. */
export function readAck(msg: Buffer): { code: string; controlId: string } | null {
  const text = msg.toString('latin1');
  const seg = text.split(/\r\n|\r|\n/).find((s) => s.startsWith('MSA'));
  if (!seg) return null;
  const fs = seg[3] ?? '|';
  const f = seg.split(fs);
  return { code: f[1] ?? '', controlId: (f[2] ?? '').split('^')[0] ?? '' };
}

export function createMllpClient<T>(o: MllpClientOptions, ev: MllpClientEvents<T> = {}): MllpClient<T> {
  const ackTimeout = o.ackTimeoutMs ?? 5000;
  const retry = o.retryMs ?? 500;
  const max = o.maxQueued ?? 10_000;
  const queue: QueuedMessage<T>[] = [];
  const counters = { sent: 0, resent: 0, acked: 0, errors: 0, rejected: 0, timeouts: 0, dropped: 0, connects: 0 };
  let inFlight: QueuedMessage<T> | null = null;
  let attempts = 0;
  let sock: Socket | null = null;
  let closed = false;
  let timer: NodeJS.Timeout | null = null;
  let deaf = false; // fault: not reading
  const framer = createMllpFramer();

  const clearTimer = () => {
    if (timer) clearTimeout(timer);
    timer = null;
  };
  const pump = (): void => {
    if (closed || !sock || timer) return;
    if (deaf) {
      // A peer that never reads its ACKs sends everything at once.
      for (const m of queue.splice(0)) {
        sock.write(m.bytes);
        counters.sent++;
      }
      return;
    }
    if (inFlight || queue.length === 0) return;
    inFlight = queue.shift() ?? null;
    if (!inFlight) return;
    attempts = 0;
    transmit();
  };
  const transmit = (): void => {
    if (!inFlight || !sock) return;
    if (attempts++ > 0) counters.resent++;
    else counters.sent++;
    sock.write(inFlight.bytes);
    clearTimer();
    timer = setTimeout(() => {
      timer = null;
      counters.timeouts++;
      transmit();
    }, ackTimeout);
  };
  const onAck = (b: Buffer): void => {
    const a = readAck(b);
    if (!a || !inFlight || a.controlId !== inFlight.controlId) return; // a late ACK of an earlier resend
    clearTimer();
    const m = inFlight;
    if (a.code === 'AA' || a.code === 'CA') {
      counters.acked++;
      inFlight = null;
      ev.acked?.(m);
      pump();
    } else if (a.code === 'AR' || a.code === 'CR') {
      counters.rejected++;
      inFlight = null;
      ev.rejected?.(m);
      pump();
    } else {
      counters.errors++;
      timer = setTimeout(() => {
        timer = null;
        transmit();
      }, retry);
    }
  };
  const dial = (): void => {
    if (closed) return;
    const s = connect(o.port, o.host ?? '127.0.0.1');
    s.setNoDelay(true);
    s.on('connect', () => {
      counters.connects++;
      sock = s;
      framer.reset();
      if (inFlight) transmit();
      else pump();
    });
    s.on('data', (b: Buffer) => framer.push(b, { frame: onAck, error: () => undefined }));
    s.on('error', () => undefined);
    s.on('close', () => {
      if (sock === s) sock = null;
      clearTimer();
      if (!closed) setTimeout(dial, o.reconnectMs ?? 200);
    });
  };
  dial();

  return {
    counters,
    get queued() {
      return queue.length + (inFlight ? 1 : 0);
    },
    get connected() {
      return sock !== null;
    },
    send(m) {
      queue.push(m);
      while (queue.length > max) {
        const d = queue.shift();
        counters.dropped++;
        if (d) ev.dropped?.(d);
      }
      pump();
    },
    stopReading(ms) {
      deaf = true;
      sock?.pause();
      setTimeout(() => {
        deaf = false;
        sock?.resume();
        pump();
      }, ms);
      pump();
    },
    drop() {
      sock?.destroy();
    },
    async drain(ms) {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        if (queue.length === 0 && !inFlight) return true;
        await new Promise((r) => setTimeout(r, 50));
      }
      return false;
    },
    close() {
      closed = true;
      clearTimer();
      sock?.destroy();
    },
  };
}
