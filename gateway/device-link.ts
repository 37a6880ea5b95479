// One loop per device: owns the device's I/O, frames and decodes its bytes, reconnects with
// backoff after any failure, and hands decoded payloads on. It never throws for device input:
// bad frames are counted and reported as coded errors.
import type { Decoded } from '../decoders/decoded.js';
import type { ErrorCode } from '../lib/errors.js';
import type { Protocol } from '../decoders/registry.js';
import type { ProtocolSession } from '../decoders/session.js';
import { createPipeline } from '../decoders/pipeline.js';
import type { Logger } from '../lib/log.js';
import { createLogLimiter } from '../lib/log-limiter.js';
import { createBackoff } from './backoff.js';
import { createSessionDriver } from './session-driver.js';
import { ByteRing } from './diagnosis-bytes.js';
import { ERROR_WINDOW_MIN_MS } from './diagnosis.js';
import type { Link, LinkOpener } from './transports/link.js';

export interface DeviceCounters {
  frames: number;
  badFrames: number;
  garbageBytes: number;
  /** Bytes received from the device (silence diagnosis: bytes that never make a frame point at the line settings). */
  bytes: number;
  reconnects: number;
  errors: Partial<Record<ErrorCode, number>>;
  /** State of the protocol session (request/response devices, e.g. Datex "streaming"); absent on listen-only links. */
  session?: string;
}

export type LinkStateName = 'connecting' | 'connected' | 'disconnected';

export interface DeviceLinkEvents {
  decoded(d: Decoded, gatewayTimeUs: number): void;
  /** `detail`: the OS's words for a failure (ENOENT, ECONNREFUSED ...), for the diagnosis; never device data. */
  state(s: LinkStateName, counters: Readonly<DeviceCounters>, reason?: ErrorCode, detail?: string): void;
  /** Raw bytes as they arrived (capture); optional. */
  data?(chunk: Buffer, gatewayTimeUs: number): void;
  /** The protocol session changed state (counters.session); optional. */
  session?(state: string, counters: Readonly<DeviceCounters>): void;
}

export interface DeviceLink {
  readonly id: string;
  readonly counters: DeviceCounters;
  /** The link's state now. */
  readonly state: LinkStateName;
  /** The newest bytes that made no good frame (at most RING_BYTES), for the diagnosis; absent where not kept. */
  recentBytes?(): Buffer;
  stop(): Promise<void>;
}

export interface DeviceLinkOptions {
  id: string;
  protocol: Protocol;
  open: LinkOpener;
  events: DeviceLinkEvents;
  logger: Logger;
  nowUs?: () => number;
  backoff?: { minMs: number; maxMs: number };
  /** UTC offset assumed for device times sent without one. */
  defaultUtcOffsetMin?: number;
  /** A host-side session to run on the link (protocol.createSession): it may write to the device. */
  session?: ProtocolSession;
}

// The gateway's clock, in Unix microseconds: the monotonic clock's resolution, anchored to the wall clock and
// re-anchored whenever the wall clock moved away by more than CLOCK_REANCHOR_MS (an NTP step after a box booted with a
// wrong time must not leave every receive time wrong until the next restart).
export const CLOCK_REANCHOR_MS = 2;
let anchorWall = performance.timeOrigin + performance.now();
let anchorMono = performance.now();

export function nowUs(): number {
  const mono = performance.now();
  let t = anchorWall + (mono - anchorMono);
  const wall = Date.now();
  if (Math.abs(t - wall) > CLOCK_REANCHOR_MS) {
    anchorWall = wall;
    anchorMono = mono;
    t = wall;
  }
  return Math.round(t * 1000);
}

export function startDeviceLink(o: DeviceLinkOptions): DeviceLink {
  const clock = o.nowUs ?? nowUs;
  const log = o.logger.child({ device: o.id });
  // A device can send bad frames as fast as its line runs: the first of each kind per interval is logged, then a count.
  const limited = createLogLimiter({ logger: log });
  const backoff = createBackoff(o.backoff?.minMs ?? 250, o.backoff?.maxMs ?? 30_000);
  const counters: DeviceCounters = { frames: 0, badFrames: 0, garbageBytes: 0, bytes: 0, reconnects: 0, errors: {} };
  let link: Link | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let state: LinkStateName = 'connecting';
  const setState = (s: LinkStateName, reason?: ErrorCode, detail?: string) => {
    state = s;
    if (reason) o.events.state(s, counters, reason, detail);
    else o.events.state(s, counters);
  };
  // Bytes that made no good frame, or rejected frames or garbage, for the diagnosis (what they look like instead). A
  // chunk of nothing but good frames empties it, so a healthy link copies little: the chunks that end mid-frame.
  const recent = new ByteRing();
  let troubleAtUs = -Infinity;

  const session = o.session
    ? createSessionDriver(o.session, {
        onState: (st) => {
          counters.session = st;
          o.events.session?.(st, counters);
        },
      })
    : null;
  if (session) counters.session = session.state;

  const count = (code: ErrorCode) => {
    counters.errors[code] = (counters.errors[code] ?? 0) + 1;
  };

  const pipeline = createPipeline(
    o.protocol,
    {
      decoded(d, rxTimeUs) {
        counters.frames++;
        for (const w of d.warnings) count(w.code);
        o.events.decoded(d, rxTimeUs);
        session?.decoded(d);
      },
      error(e, frameLevel) {
        count(e.code);
        if (frameLevel) {
          counters.frames++;
          counters.badFrames++;
          limited.log(e.code, 'warn', { err: e.code }, 'frame rejected');
        }
        counters.garbageBytes = pipeline.stats.garbageBytes;
      },
    },
    o.defaultUtcOffsetMin !== undefined ? { defaultUtcOffsetMin: o.defaultUtcOffsetMin } : {},
  );

  const onData = (chunk: Buffer) => {
    const t = clock();
    counters.bytes += chunk.length;
    o.events.data?.(chunk, t);
    const frames = counters.frames;
    const bad = counters.badFrames;
    const garbage = pipeline.stats.garbageBytes;
    const framing = pipeline.stats.errors;
    pipeline.push(chunk, t);
    // A chunk that completed good frames and nothing else (no rejected frame, garbage or truncation) on a link with no
    // trouble for a whole error window is the healthy case: nothing to keep. Within the window the clean chunks are
    // kept too: a wrong rate or protocol passes frames by chance now and then, and those bytes show what the sender
    // is as much as the rejected ones do (the diagnosis reads them).
    const clean =
      counters.frames > frames &&
      counters.badFrames === bad &&
      pipeline.stats.garbageBytes === garbage &&
      pipeline.stats.errors === framing;
    if (!clean) troubleAtUs = t;
    if (clean && t - troubleAtUs > ERROR_WINDOW_MIN_MS * 1000) {
      if (recent.length > 0) recent.clear();
    } else recent.push(chunk);
  };

  const schedule = (code: ErrorCode, detail: string) => {
    if (stopped) return;
    const wait = backoff.next();
    // The detail is an OS error text (ENOENT, EIO): no device data.
    log.info({ code, err: detail, retryMs: wait }, 'device link down');
    setState('disconnected', code, detail);
    timer = setTimeout(connect, wait);
  };

  async function connect(): Promise<void> {
    timer = undefined;
    if (stopped) return;
    setState('connecting');
    pipeline.reset();
    recent.clear();
    try {
      const l = await o.open({
        data: onData,
        close: (err) => {
          link = undefined;
          session?.closed();
          count('VW_ERR_LINK_CLOSED');
          counters.reconnects++;
          // A frame cut by the drop is dropped; the next connection starts clean.
          pipeline.reset();
          schedule('VW_ERR_LINK_CLOSED', err?.message ?? 'closed');
        },
      });
      if (stopped) {
        await l.close();
        return;
      }
      link = l;
      backoff.reset();
      log.info('device link up');
      setState('connected');
      session?.opened(l);
    } catch (err) {
      count('VW_ERR_LINK_OPEN');
      schedule('VW_ERR_LINK_OPEN', err instanceof Error ? err.message : String(err));
    }
  }

  void connect();

  return {
    id: o.id,
    counters,
    get state() {
      return state;
    },
    recentBytes: () => recent.snapshot(),
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      const l = link;
      link = undefined;
      session?.stopping(l);
      if (l) await l.close();
      limited.close();
    },
  };
}
