// One loop per device: owns the device's I/O, frames and decodes its bytes, reconnects with
// backoff after any failure, and hands decoded payloads on. It never throws for device input:
// bad frames are counted and reported as coded errors.
import type { Decoded } from '../decoders/decoded.js';
import type { ErrorCode } from '../decoders/errors.js';
import type { Protocol } from '../decoders/registry.js';
import { createPipeline } from '../decoders/pipeline.js';
import type { Logger } from '../lib/log.js';
import { createBackoff } from './backoff.js';
import type { Link, LinkOpener } from './transports/link.js';

export interface DeviceCounters {
  frames: number;
  badFrames: number;
  garbageBytes: number;
  reconnects: number;
  errors: Partial<Record<ErrorCode, number>>;
}

export type LinkStateName = 'connecting' | 'connected' | 'disconnected';

export interface DeviceLinkEvents {
  decoded(d: Decoded, gatewayTimeUs: number): void;
  state(s: LinkStateName, counters: Readonly<DeviceCounters>, reason?: string): void;
}

export interface DeviceLink {
  readonly id: string;
  readonly counters: DeviceCounters;
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
}

export function nowUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

export function startDeviceLink(o: DeviceLinkOptions): DeviceLink {
  const clock = o.nowUs ?? nowUs;
  const log = o.logger.child({ device: o.id });
  const backoff = createBackoff(o.backoff?.minMs ?? 250, o.backoff?.maxMs ?? 30_000);
  const counters: DeviceCounters = { frames: 0, badFrames: 0, garbageBytes: 0, reconnects: 0, errors: {} };
  let link: Link | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const count = (code: ErrorCode) => {
    counters.errors[code] = (counters.errors[code] ?? 0) + 1;
  };

  const pipeline = createPipeline(o.protocol, {
    decoded(d, rxTimeUs) {
      counters.frames++;
      for (const w of d.warnings) count(w.code);
      o.events.decoded(d, rxTimeUs);
    },
    error(e, frameLevel) {
      count(e.code);
      if (frameLevel) {
        counters.frames++;
        counters.badFrames++;
        log.warn({ err: e.code }, 'frame rejected');
      }
      counters.garbageBytes = pipeline.stats.garbageBytes;
    },
  });

  const onData = (chunk: Buffer) => pipeline.push(chunk, clock());

  const schedule = (reason: string) => {
    if (stopped) return;
    const wait = backoff.next();
    log.info({ reason, retryMs: wait }, 'device link down');
    o.events.state('disconnected', counters, reason);
    timer = setTimeout(connect, wait);
  };

  async function connect(): Promise<void> {
    timer = undefined;
    if (stopped) return;
    o.events.state('connecting', counters);
    pipeline.reset();
    try {
      const l = await o.open({
        data: onData,
        close: (err) => {
          link = undefined;
          count('VW_ERR_LINK_CLOSED');
          counters.reconnects++;
          schedule(err?.message ?? 'closed');
        },
      });
      if (stopped) {
        await l.close();
        return;
      }
      link = l;
      backoff.reset();
      log.info('device link up');
      o.events.state('connected', counters);
    } catch (err) {
      count('VW_ERR_LINK_OPEN');
      schedule(err instanceof Error ? err.message : String(err));
    }
  }

  void connect();

  return {
    id: o.id,
    counters,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      const l = link;
      link = undefined;
      if (l) await l.close();
    },
  };
}
