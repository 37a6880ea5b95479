// What the gateway does with one device's decoded frames and link events: clock offsets and suspect times, batching
// into the outbox, link status (retained when live) and Gap markers for the intervals it could not get (the link was
// down, or the gateway itself was). The device's I/O lives in its link (device-link.ts, transports/mllp-listener.ts).
import type { Decoded } from '../decoders/decoded.js';
import type { ErrorCode } from '../decoders/errors.js';
import type { Logger } from '../lib/log.js';
import { Flag, GapReason, Kind, LinkState, type IGap, type ISource } from '../proto/index.js';
import { DeviceBatcher, type BatchingOptions } from './batcher.js';
import { DeviceClock, type ClockOptions, type TimeSuspect } from './clock.js';
import type { DeviceCounters, LinkStateName } from './device-link.js';
import type { Outbox } from './outbox/outbox.js';

const LINK_STATE: Record<LinkStateName, number> = {
  connecting: LinkState.LINK_STATE_CONNECTING,
  connected: LinkState.LINK_STATE_CONNECTED,
  disconnected: LinkState.LINK_STATE_DISCONNECTED,
};

export interface DeviceRuntimeOptions {
  site: string;
  gateway: string;
  device: string;
  protocol: string;
  bed?: string | undefined;
  model?: string | undefined;
  /** Streaming links lose what the device sends while they are down; MLLP senders resend, so they lose nothing. */
  losesDataWhileDown: boolean;
  outbox: Outbox;
  batching: BatchingOptions;
  clock: ClockOptions;
  logger: Logger;
  nowUs: () => number;
}

export interface DeviceRuntimeCounters {
  unmapped: number;
  timeSuspect: Record<TimeSuspect, number>;
  /** Gap markers stored, by reason ('device-disconnected', 'restart'). */
  gaps: Record<string, number>;
  storeErrors: number;
}

export class DeviceRuntime {
  readonly id: string;
  readonly clock: DeviceClock;
  readonly counters: DeviceRuntimeCounters = { unmapped: 0, timeSuspect: { future: 0, jump: 0, rollover: 0 }, gaps: {}, storeErrors: 0 };
  private readonly o: DeviceRuntimeOptions;
  private readonly batcher: DeviceBatcher;
  private readonly log: Logger;
  private hardwareId = '';
  private model: string;
  private bed: string;
  /** The bed the device itself claims (HL7 PV1-3): its claim, published apart from the configured bed. */
  private bedClaim = '';
  private lastDataUs = 0;
  private downSinceUs = 0;
  /** Newest data time stored before this process started (a restart gap is due at the first connect). */
  private restartFromUs: number;
  private lastState: LinkStateName = 'connecting';
  private lastReason = '';
  private lastCounters: Readonly<DeviceCounters> | null = null;
  private suspectLogged = new Set<TimeSuspect>();

  constructor(o: DeviceRuntimeOptions) {
    this.o = o;
    this.id = o.device;
    this.model = o.model ?? '';
    this.bed = o.bed ?? '';
    this.clock = new DeviceClock(o.clock);
    this.log = o.logger.child({ device: o.device });
    this.restartFromUs = o.losesDataWhileDown ? (o.outbox.recoveredLastUs.get(o.device) ?? 0) : 0;
    this.batcher = new DeviceBatcher(o.batching, (kind, body, fromUs, toUs, ref) =>
      o.outbox.append({ source: this.source(), kind, fromUs, toUs, body, retain: kind === 'status' && (body.statuses?.length ?? 0) > 0, ...(ref ? { ref } : {}) }),
    (err) => {
      this.counters.storeErrors++;
      this.log.error({ code: 'VW_ERR_OUTBOX_IO', err: err instanceof Error ? err.message : String(err) }, 'batch not stored');
    });
  }

  private source(): ISource & { device: string } {
    return { site: this.o.site, gateway: this.o.gateway, device: this.o.device, protocol: this.o.protocol, bed: this.bed, bedClaim: this.bedClaim, model: this.model, hardwareId: this.hardwareId };
  }

  /** One decoded frame, received at rxUs (gateway clock). */
  ingest(d: Decoded, rxUs: number): void {
    if (d.device) this.hardwareId = d.device;
    if (d.model) this.model = d.model;
    if (d.bed) this.bedClaim = d.bed;
    this.lastDataUs = rxUs;
    const suspect = this.clock.stamp(d, rxUs);
    if (suspect) {
      this.counters.timeSuspect[suspect]++;
      if (!this.suspectLogged.has(suspect)) {
        this.suspectLogged.add(suspect);
        this.log.warn({ code: 'VW_ERR_TIME_SUSPECT', kind: suspect }, 'implausible device time: flagged, gateway time stands');
      }
    }
    for (const ob of d.observations) if ((ob.flags ?? 0) & Flag.FLAG_UNMAPPED) this.counters.unmapped++;
    this.batcher.add('obs', d.observations, rxUs);
    this.batcher.add('wave', d.waves, rxUs);
    this.batcher.add('alarm', d.alarms, rxUs);
    if (d.statuses && d.statuses.length > 0) void this.batcher.put('status', { statuses: d.statuses }, rxUs, rxUs).catch(() => undefined);
    if (d.gaps && d.gaps.length > 0) {
      this.counters.gaps['device-skipped'] = (this.counters.gaps['device-skipped'] ?? 0) + d.gaps.length;
      void this.batcher.put('status', { gaps: d.gaps }, rxUs, rxUs).catch(() => undefined);
    }
  }

  /** Stores everything open now; resolves when durable (the MLLP ACK waits for it). */
  commit(ref?: string): Promise<void> {
    return this.batcher.commit(ref);
  }

  private gap(g: IGap, reason: string): void {
    this.counters.gaps[reason] = (this.counters.gaps[reason] ?? 0) + 1;
    const now = this.o.nowUs();
    void this.batcher.put('status', { gaps: [g] }, now, now).catch(() => undefined);
  }

  /** Link state changes: a status record, and a Gap when the link comes back after losing data. */
  linkState(state: LinkStateName, counters: Readonly<DeviceCounters>, reason?: ErrorCode): void {
    const now = this.o.nowUs();
    if (state === 'connected') {
      if (this.restartFromUs > 0) {
        this.gap({ kind: Kind.KIND_UNSPECIFIED, fromTimeUs: this.restartFromUs, toTimeUs: now, reason: GapReason.GAP_REASON_RESTART }, 'restart');
        this.restartFromUs = 0;
      }
      if (this.downSinceUs > 0 && this.o.losesDataWhileDown) {
        this.gap({ kind: Kind.KIND_UNSPECIFIED, fromTimeUs: this.downSinceUs, toTimeUs: now, reason: GapReason.GAP_REASON_DEVICE_DISCONNECTED }, 'device-disconnected');
      }
      this.downSinceUs = 0;
    } else if (state === 'disconnected' && this.lastState === 'connected') {
      this.downSinceUs = this.lastDataUs || now;
      // What arrived before the drop is stored now, not at the end of its interval.
      void this.batcher.commit().catch(() => undefined);
    }
    this.lastState = state;
    this.lastReason = reason ?? '';
    this.status(counters);
  }

  /** A status record with the link's counters (also sent periodically). */
  status(counters: Readonly<DeviceCounters> | null = this.lastCounters): void {
    if (!counters) return;
    this.lastCounters = counters;
    const now = this.o.nowUs();
    void this.batcher.put('status', {
      statuses: [{
        time: { gatewayTimeUs: now },
        state: LINK_STATE[this.lastState],
        reason: this.lastReason,
        framesOk: counters.frames - counters.badFrames,
        framesBad: counters.badFrames,
        garbageBytes: counters.garbageBytes,
        unmapped: this.counters.unmapped,
        reconnects: counters.reconnects,
      }],
    }, now, now).catch(() => undefined);
  }

  /** Shutdown: everything open is stored. */
  flush(): Promise<void> {
    return this.batcher.flush();
  }
}
