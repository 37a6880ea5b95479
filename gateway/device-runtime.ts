// What the gateway does with one device's decoded frames and link events: clock offsets and suspect times, batching
// into the outbox, link status (retained when live) and Gap markers for the intervals it could not get (the link was
// down, the device fell silent, or the gateway itself was down). The device's I/O lives in its link (device-link.ts,
// transports/mllp-listener.ts).
import type { Decoded } from '../decoders/decoded.js';
import type { ErrorCode } from '../lib/errors.js';
import type { Logger } from '../lib/log.js';
import { Flag, GapReason, Kind, LinkState, type IGap, type ISource } from '../proto/index.js';
import { DeviceBatcher, type BatcherCounters, type BatchingOptions } from './batcher.js';
import { DeviceClock, type ClockOptions, type TimeSuspect } from './clock.js';
import type { DeviceCounters, LinkStateName } from './device-link.js';
import { silentText, type Diagnosis, type LineSettings } from './diagnosis.js';
import { DeviceDiagnosis, type LinkFacts } from './diagnosis-tracker.js';
import type { Outbox } from './outbox/outbox.js';
import { clipSourceText } from './publish-size.js';

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
  /** With the link up, no good frame for this long makes the device SILENT (gateway/silence.ts); null: not judged. */
  silenceAfterMs?: number | null;
  /** A simulator, not a patient: everything of the device is flagged FLAG_SIMULATED. */
  simulated?: boolean;
  /** Serial links: the line settings (the diagnosis names the rate the bytes were read at). */
  line?: LineSettings | undefined;
  /** The link's newest bytes that made no frame (device-link.ts), for the diagnosis; absent for MLLP listeners. */
  recentBytes?: (() => Buffer) | undefined;
  outbox: Outbox;
  batching: BatchingOptions;
  clock: ClockOptions;
  logger: Logger;
  nowUs: () => number;
}

export interface DeviceRuntimeCounters {
  unmapped: number;
  timeSuspect: Record<TimeSuspect, number>;
  /** Gap markers stored, by reason ('device-disconnected', 'device-silent', 'device-skipped', 'restart'). */
  gaps: Record<string, number>;
  storeErrors: number;
}

export class DeviceRuntime {
  readonly id: string;
  readonly clock: DeviceClock;
  readonly counters: DeviceRuntimeCounters = {
    unmapped: 0,
    timeSuspect: { future: 0, jump: 0, rollover: 0 },
    gaps: {},
    storeErrors: 0,
  };
  private readonly o: DeviceRuntimeOptions;
  private readonly batcher: DeviceBatcher;
  private readonly log: Logger;
  private hardwareId = '';
  private model: string;
  private bed: string;
  /** The bed the device itself claims (HL7 PV1-3): its claim, published apart from the configured bed. */
  private bedClaim = '';
  private lastDataUs = 0;
  /** Link bytes and rejected frames counted when the last good frame arrived (silence diagnosis). */
  private bytesAtFrame = 0;
  private badAtFrame = 0;
  private downSinceUs = 0;
  /** When the link last came up (silence is measured from the later of this and the last frame). */
  private upSinceUs = 0;
  /** Start of the silence now being reported (0: not silent); its Gap is stored when the device sends again. */
  private silentFromUs = 0;
  /** The device is reported SILENT (silentFromUs may outlive it over an MLLP reconnect). */
  private silent = false;
  private silenceTimer: NodeJS.Timeout | null = null;
  private readonly silenceAfterUs: number | null;
  private readonly flag: number;
  /** Newest data time stored before this process started (a restart gap is due at the first connect). */
  private restartFromUs: number;
  private lastState: LinkStateName = 'connecting';
  private lastReason = '';
  /** The OS's words for the last link failure (diagnosis). */
  private lastDetail = '';
  private lastCounters: Readonly<DeviceCounters> | null = null;
  private suspectLogged = new Set<TimeSuspect>();
  private readonly diag: DeviceDiagnosis;

  constructor(o: DeviceRuntimeOptions) {
    this.o = o;
    this.id = o.device;
    this.model = o.model ?? '';
    this.bed = o.bed ?? '';
    this.clock = new DeviceClock(o.clock);
    this.log = o.logger.child({ device: o.device });
    this.restartFromUs = o.losesDataWhileDown ? (o.outbox.recoveredLastUs.get(o.device) ?? 0) : 0;
    this.silenceAfterUs = o.silenceAfterMs ? o.silenceAfterMs * 1000 : null;
    this.diag = new DeviceDiagnosis({
      protocol: o.protocol,
      line: o.line,
      silenceAfterUs: this.silenceAfterUs,
      recentBytes: o.recentBytes,
      log: this.log,
    });
    this.flag = o.simulated ? Flag.FLAG_SIMULATED : 0;
    this.batcher = new DeviceBatcher(
      o.batching,
      (kind, body, fromUs, toUs, ref, setAside) =>
        o.outbox.append({
          source: this.source(),
          kind,
          fromUs,
          toUs,
          body,
          retain: kind === 'status' && (body.statuses?.length ?? 0) > 0,
          ...(ref ? { ref } : {}),
          ...(setAside ? { setAside } : {}),
        }),
      (err) => {
        this.counters.storeErrors++;
        this.log.error(
          { code: 'VW_ERR_OUTBOX_IO', err: err instanceof Error ? err.message : String(err) },
          'batch not stored',
        );
      },
      this.log,
    );
  }

  /** Items the batcher made fit its limit: waveforms split, texts cut, items batched whole. */
  get fitted(): Readonly<BatcherCounters> {
    return this.batcher.counters;
  }

  private source(): ISource & { device: string } {
    return {
      site: this.o.site,
      gateway: this.o.gateway,
      device: this.o.device,
      protocol: this.o.protocol,
      bed: this.bed,
      bedClaim: this.bedClaim,
      model: this.model,
      hardwareId: this.hardwareId,
    };
  }

  /** One decoded frame, received at rxUs (gateway clock). */
  ingest(d: Decoded, rxUs: number): void {
    // Device text in every Batch's Source, bounded so the header always fits a publish (gateway/publish-size.ts).
    if (d.device) this.hardwareId = clipSourceText(d.device);
    if (d.model) this.model = clipSourceText(d.model);
    if (d.bed) this.bedClaim = clipSourceText(d.bed);
    this.lastDataUs = rxUs;
    const c = this.lastCounters;
    if (c) {
      this.bytesAtFrame = c.bytes;
      this.badAtFrame = c.badFrames;
    }
    if (this.silentFromUs > 0) this.resume(rxUs);
    if (this.flag) markSimulated(d, this.flag);
    // Most frames are rejected, or the bytes look like a wrong rate or protocol: what passes is likely noise.
    if (this.diag.questionable) markAll(d, Flag.FLAG_QUESTIONABLE);
    const suspect = this.clock.stamp(d, rxUs);
    if (suspect) {
      this.counters.timeSuspect[suspect]++;
      if (!this.suspectLogged.has(suspect)) {
        this.suspectLogged.add(suspect);
        this.log.warn(
          { code: 'VW_ERR_TIME_SUSPECT', kind: suspect },
          'implausible device time: flagged, gateway time stands',
        );
      }
    }
    for (const ob of d.observations) if ((ob.flags ?? 0) & Flag.FLAG_UNMAPPED) this.counters.unmapped++;
    this.batcher.add('obs', d.observations, rxUs);
    this.batcher.add('wave', d.waves, rxUs);
    this.batcher.add('alarm', d.alarms, rxUs);
    if (d.statuses && d.statuses.length > 0)
      void this.batcher.put('status', { statuses: d.statuses }, rxUs, rxUs).catch(() => undefined);
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
  linkState(state: LinkStateName, counters: Readonly<DeviceCounters>, reason?: ErrorCode, detail?: string): void {
    const now = this.o.nowUs();
    this.lastCounters = counters;
    this.lastDetail = detail ?? '';
    if (state !== 'connected') this.stopSilenceWatch();
    if (state === 'disconnected' && this.silentFromUs > 0 && this.o.losesDataWhileDown) {
      // The disconnect's Gap starts at the last frame: it covers the silence too.
      this.silentFromUs = 0;
    }
    this.silent = false;
    if (state === 'connected') {
      // Silence is measured from the later of the last frame and now; so is what its diagnosis counts.
      this.upSinceUs = now;
      this.bytesAtFrame = counters.bytes;
      this.badAtFrame = counters.badFrames;
      if (this.restartFromUs > 0) {
        this.gap(
          {
            kind: Kind.KIND_UNSPECIFIED,
            fromTimeUs: this.restartFromUs,
            toTimeUs: now,
            reason: GapReason.GAP_REASON_RESTART,
          },
          'restart',
        );
        this.restartFromUs = 0;
      }
      if (this.downSinceUs > 0 && this.o.losesDataWhileDown) {
        this.gap(
          {
            kind: Kind.KIND_UNSPECIFIED,
            fromTimeUs: this.downSinceUs,
            toTimeUs: now,
            reason: GapReason.GAP_REASON_DEVICE_DISCONNECTED,
          },
          'device-disconnected',
        );
      }
      this.downSinceUs = 0;
    } else if (state === 'disconnected' && this.lastState === 'connected') {
      this.downSinceUs = this.lastDataUs || now;
      // What arrived before the drop is stored now, not at the end of its interval.
      void this.batcher.commit().catch(() => undefined);
    }
    this.lastState = state;
    this.lastReason = reason ?? '';
    this.diag.linkChanged(this.facts(now), counters);
    this.status(counters);
    if (state === 'connected') this.watchSilence();
  }

  // ---- silence: the link is up, the device sends nothing ----------------------------------------------------------

  /** Arms one timer for the moment the device would become silent; frames in between cost nothing. */
  private watchSilence(): void {
    const after = this.silenceAfterUs;
    if (after === null || this.silent || this.silenceTimer || this.lastState !== 'connected') return;
    const due = Math.max(this.lastDataUs, this.upSinceUs) + after;
    const ms = Math.max(1, Math.ceil((due - this.o.nowUs()) / 1000));
    this.silenceTimer = setTimeout(() => {
      this.silenceTimer = null;
      this.checkSilence();
    }, ms);
    this.silenceTimer.unref();
  }

  private stopSilenceWatch(): void {
    if (this.silenceTimer) clearTimeout(this.silenceTimer);
    this.silenceTimer = null;
  }

  private checkSilence(): void {
    const after = this.silenceAfterUs;
    if (after === null || this.lastState !== 'connected' || this.silent) return;
    const now = this.o.nowUs();
    const from = Math.max(this.lastDataUs, this.upSinceUs);
    if (now - from < after) return this.watchSilence();
    this.silent = true;
    // A silence carried over an MLLP reconnect keeps its start: its Gap runs from the last frame.
    if (this.silentFromUs === 0) this.silentFromUs = from;
    const c = this.lastCounters;
    // This line is the diagnosis's log line for the state too: the periodic diagnosis does not repeat it.
    const d = this.diag.silent(this.facts(now));
    this.log.warn(
      {
        code: 'VW_ERR_DEVICE_SILENT',
        silentMs: Math.round((now - from) / 1000),
        bytes: (c?.bytes ?? 0) - this.bytesAtFrame,
        state: d.state,
        diagnosis: d.text,
      },
      'device silent: link up, no frames',
    );
    this.lastReason = 'VW_ERR_DEVICE_SILENT';
    this.status();
  }

  /** The device sends again: the silent interval becomes a Gap, the link is CONNECTED again. */
  private resume(rxUs: number): void {
    const from = this.silentFromUs;
    this.silentFromUs = 0;
    this.gap(
      { kind: Kind.KIND_UNSPECIFIED, fromTimeUs: from, toTimeUs: rxUs, reason: GapReason.GAP_REASON_DEVICE_SILENT },
      'device-silent',
    );
    if (this.silent) {
      this.silent = false;
      this.lastReason = '';
      this.log.info({ silentMs: Math.round((rxUs - from) / 1000) }, 'device sends again');
      this.status();
    }
    this.watchSilence();
  }

  /** Is the device reported SILENT now? */
  isSilent(): boolean {
    return this.silent;
  }

  /** Gateway time of the last good frame (0: none since the gateway started). */
  get lastFrameUs(): number {
    return this.lastDataUs;
  }

  /** The device's diagnosis as of the last evaluation (diagnose()). */
  get diagnosis(): Diagnosis {
    return this.diag.current;
  }

  /** What the diagnosis needs to know of the link now. */
  private facts(now: number): LinkFacts {
    const c = this.lastCounters;
    return {
      link: this.lastState,
      linkReason: this.lastReason,
      linkDetail: this.lastDetail,
      nowUs: now,
      upSinceUs: this.upSinceUs,
      lastFrameUs: this.lastDataUs,
      silent: this.silent,
      bytesSinceFrame: (c?.bytes ?? 0) - this.bytesAtFrame,
      badSinceFrame: (c?.badFrames ?? 0) - this.badAtFrame,
    };
  }

  /** Re-evaluates the link's state with its reason (the gateway calls this every second: gateway/diagnosis-tracker.ts). */
  diagnose(): Diagnosis {
    if (this.diag.tick(this.facts(this.o.nowUs()), this.lastCounters)) this.status();
    return this.diag.current;
  }

  /** A status record with the link's counters (also sent periodically). */
  status(counters: Readonly<DeviceCounters> | null = this.lastCounters): void {
    if (!counters) return;
    this.lastCounters = counters;
    const now = this.o.nowUs();
    void this.batcher
      .put(
        'status',
        {
          statuses: [
            {
              time: { gatewayTimeUs: now },
              state: this.silent ? LinkState.LINK_STATE_SILENT : LINK_STATE[this.lastState],
              reason: this.lastReason,
              framesOk: counters.frames - counters.badFrames,
              framesBad: counters.badFrames,
              garbageBytes: counters.garbageBytes,
              unmapped: this.counters.unmapped,
              reconnects: counters.reconnects,
              lastFrameTimeUs: this.lastDataUs,
              ...(this.silent
                ? { diagnosis: silentText(this.diag.input(this.facts(now))).text }
                : this.diag.current.state === 'frame-errors'
                  ? { diagnosis: this.diag.current.text }
                  : {}),
              flags: this.flag,
              ...(counters.session ? { session: counters.session } : {}),
            },
          ],
        },
        now,
        now,
      )
      .catch(() => undefined);
  }

  /** Shutdown: everything open is stored. */
  flush(): Promise<void> {
    this.stopSilenceWatch();
    return this.batcher.flush();
  }
}

/** `flag` on every value, waveform chunk and alarm of a frame. */
function markAll(d: Decoded, flag: number): void {
  for (const x of d.observations) x.flags = (x.flags ?? 0) | flag;
  for (const x of d.waves) x.flags = (x.flags ?? 0) | flag;
  for (const x of d.alarms) x.flags = (x.flags ?? 0) | flag;
}

/** FLAG_SIMULATED on everything a frame of a simulated device carries. */
function markSimulated(d: Decoded, flag: number): void {
  markAll(d, flag);
  if (d.statuses) for (const x of d.statuses) x.flags = (x.flags ?? 0) | flag;
}
