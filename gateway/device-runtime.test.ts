// What DeviceRuntime puts in the outbox for a decoded frame: the source it publishes under and the Gaps a decoder
// reports. The outbox here only records appends: the runtime's contract is what it asks the outbox to store.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import {
  Flag,
  GapReason,
  Kind,
  LinkState,
  type IAlarm,
  type IDeviceStatus,
  type IGap,
  type IObservation,
  type ISource,
  type IWaveformChunk,
} from '../proto/index.js';
import type { Decoded } from '../decoders/decoded.js';
import { DeviceRuntime } from './device-runtime.js';
import type { Outbox } from './outbox/outbox.js';

function runtime(bed?: string) {
  const appended: { source: ISource; kind: string; body: Record<string, unknown> }[] = [];
  const outbox = {
    recoveredLastUs: new Map<string, number>(),
    append: (r: { source: ISource; kind: string; body: Record<string, unknown> }) => {
      appended.push(r);
      return Promise.resolve({});
    },
  } as unknown as Outbox;
  const rt = new DeviceRuntime({
    site: 's1',
    gateway: 'g1',
    device: 'mon1',
    protocol: 'hl7',
    bed,
    losesDataWhileDown: true,
    outbox,
    batching: { obsMs: 0, waveMs: 0, alarmMs: 0, maxBatchBytes: 64 * 1024 },
    clock: { maxFutureMs: 60_000, jumpMs: 300_000, minPlausibleUs: 0 },
    logger: pino({ level: 'silent' }),
    nowUs: () => 1.8e15,
  });
  return { rt, appended };
}

const frame = (extra: Partial<Decoded>): Decoded => ({
  observations: [
    { mdc: 150456, refid: 'MDC_PULS_OXIM_SAT_O2', number: 97, unit: '%', time: { gatewayTimeUs: 1.8e15 } },
  ],
  waves: [],
  alarms: [],
  warnings: [],
  ...extra,
});

describe('DeviceRuntime', () => {
  it("publishes a device's PV1-3 bed as its claim, never as the bed: two monitors claiming one bed stay apart", async () => {
    const { rt, appended } = runtime(undefined);
    rt.ingest(frame({ bed: 'ICU-5' }), 1.8e15);
    await rt.commit();
    const src = appended.find((a) => a.kind === 'obs')?.source;
    expect(src?.bed).toBe('');
    expect(src?.bedClaim).toBe('ICU-5');
  });

  it('keeps the configured bed and carries the claim beside it', async () => {
    const { rt, appended } = runtime('Bed 3');
    rt.ingest(frame({ bed: 'ICU-5' }), 1.8e15);
    await rt.commit();
    const src = appended.find((a) => a.kind === 'obs')?.source;
    expect(src?.bed).toBe('Bed 3');
    expect(src?.bedClaim).toBe('ICU-5');
  });

  it("stores the Gaps a decoder reports in the device's status stream, and counts them", async () => {
    const { rt, appended } = runtime('Bed 1');
    const gap = {
      kind: Kind.KIND_WAVE,
      waveMdc: 131330,
      fromSample: 500,
      sampleCount: 500,
      reason: GapReason.GAP_REASON_DEVICE_SKIPPED,
    };
    rt.ingest(frame({ gaps: [gap] }), 1.8e15);
    await rt.commit();
    const st = appended.filter((a) => a.kind === 'status').map((a) => a.body['gaps']);
    expect(st).toContainEqual([gap]);
    expect(rt.counters.gaps['device-skipped']).toBe(1);
  });
});

describe('DeviceRuntime: silence (link up, no frames)', () => {
  // The gateway's injectable clock, moved together with vitest's timers: no test waits for real.
  function silentRig(o: { afterMs?: number | null; losesDataWhileDown?: boolean; simulated?: boolean } = {}) {
    let t = 1.8e15;
    const appended: {
      kind: string;
      body: { statuses?: IDeviceStatus[]; gaps?: IGap[]; observations?: IObservation[] };
    }[] = [];
    const outbox = {
      recoveredLastUs: new Map<string, number>(),
      append: (r: (typeof appended)[number]) => {
        appended.push(r);
        return Promise.resolve({});
      },
    } as unknown as Outbox;
    const rt = new DeviceRuntime({
      site: 's1',
      gateway: 'g1',
      device: 'ox1',
      protocol: 'nonin8',
      losesDataWhileDown: o.losesDataWhileDown ?? true,
      outbox,
      silenceAfterMs: o.afterMs === undefined ? 300 : o.afterMs,
      simulated: o.simulated ?? false,
      batching: { obsMs: 0, waveMs: 0, alarmMs: 0, maxBatchBytes: 64 * 1024 },
      clock: { maxFutureMs: 60_000, jumpMs: 300_000, minPlausibleUs: 0 },
      logger: pino({ level: 'silent' }),
      nowUs: () => t,
    });
    const counters = { frames: 0, badFrames: 0, garbageBytes: 0, bytes: 0, reconnects: 0, errors: {} };
    const advance = (ms: number) => {
      t += ms * 1000;
      vi.advanceTimersByTime(ms);
    };
    const send = () => {
      counters.bytes += 4;
      counters.frames++;
      rt.ingest(frame({}), t);
    };
    const statuses = () => appended.flatMap((a) => a.body.statuses ?? []);
    const gaps = () => appended.flatMap((a) => a.body.gaps ?? []);
    return { rt, counters, advance, send, statuses, gaps, appended, now: () => t };
  }
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reports SILENT with a diagnosis and the last frame time, then CONNECTED and a Gap from that frame when it sends again', async () => {
    const r = silentRig();
    r.rt.linkState('connected', r.counters);
    for (let i = 0; i < 5; i++) {
      r.advance(100);
      r.send();
    }
    const lastFrame = r.now();
    r.advance(299);
    expect(r.statuses().map((s) => s.state)).toEqual([LinkState.LINK_STATE_CONNECTED]);
    r.advance(2);
    await Promise.resolve();
    const silent = r.statuses().at(-1);
    expect(silent?.state).toBe(LinkState.LINK_STATE_SILENT);
    expect(silent?.reason).toBe('VW_ERR_DEVICE_SILENT');
    expect(silent?.lastFrameTimeUs).toBe(lastFrame);
    expect(silent?.diagnosis).toMatch(/^no bytes from the device for 0 s/);
    expect(r.rt.isSilent()).toBe(true);
    expect(r.gaps()).toEqual([]);

    r.advance(5000); // still silent: the periodic status says so too
    r.rt.status();
    expect(r.statuses().at(-1)?.state).toBe(LinkState.LINK_STATE_SILENT);
    expect(r.statuses().at(-1)?.diagnosis).toMatch(/for 5 s/);

    r.send();
    const back = r.now();
    await r.rt.commit();
    expect(r.gaps()).toEqual([
      {
        kind: Kind.KIND_UNSPECIFIED,
        fromTimeUs: lastFrame,
        toTimeUs: back,
        reason: GapReason.GAP_REASON_DEVICE_SILENT,
      },
    ]);
    const st = r.statuses().at(-1);
    expect([st?.state, st?.reason, st?.lastFrameTimeUs, st?.diagnosis]).toEqual([
      LinkState.LINK_STATE_CONNECTED,
      '',
      back,
      undefined,
    ]);
    expect(r.rt.isSilent()).toBe(false);
    expect(r.rt.counters.gaps['device-silent']).toBe(1);
    // The watch goes on: silent again 300 ms after this frame.
    r.advance(301);
    expect(r.statuses().at(-1)?.state).toBe(LinkState.LINK_STATE_SILENT);
  });

  it('puts last_frame_time_us on every status, 0 before any frame', () => {
    const r = silentRig({ afterMs: null });
    r.rt.linkState('connecting', r.counters);
    r.rt.linkState('connected', r.counters);
    r.advance(10);
    r.send();
    const at = r.now();
    r.advance(10_000);
    r.rt.status();
    expect(r.statuses().map((s) => s.lastFrameTimeUs)).toEqual([0, 0, at]);
    expect(r.statuses().every((s) => s.state !== LinkState.LINK_STATE_SILENT)).toBe(true); // silence not judged
  });

  it('says so when bytes arrive but never make a frame', () => {
    const r = silentRig();
    r.rt.linkState('connected', r.counters);
    r.counters.bytes += 960; // a Nonin 8 line at the wrong speed: bytes, nothing framed
    r.counters.badFrames += 2;
    r.advance(301);
    expect(r.statuses().at(-1)?.diagnosis).toMatch(
      /^960 bytes but no valid nonin8 frame since the link opened \(0 s\), 2 frames rejected/,
    );
  });

  it('leaves a silence that ends in a disconnect to the disconnect Gap, which starts at the last frame', async () => {
    const r = silentRig();
    r.rt.linkState('connected', r.counters);
    r.send();
    const lastFrame = r.now();
    r.advance(400);
    expect(r.rt.isSilent()).toBe(true);
    r.rt.linkState('disconnected', r.counters, 'VW_ERR_LINK_CLOSED');
    expect(r.rt.isSilent()).toBe(false);
    r.advance(1000);
    r.rt.linkState('connected', r.counters);
    const up = r.now();
    r.send();
    await r.rt.commit();
    expect(r.gaps()).toEqual([
      {
        kind: Kind.KIND_UNSPECIFIED,
        fromTimeUs: lastFrame,
        toTimeUs: up,
        reason: GapReason.GAP_REASON_DEVICE_DISCONNECTED,
      },
    ]);
  });

  it("keeps an MLLP sender's silence across its reconnect (nothing was lost, so no disconnect Gap covers it)", async () => {
    const r = silentRig({ losesDataWhileDown: false });
    r.rt.linkState('connected', r.counters);
    r.send();
    const lastFrame = r.now();
    r.advance(400);
    r.rt.linkState('disconnected', r.counters);
    r.advance(100);
    r.rt.linkState('connected', r.counters);
    r.advance(50);
    r.send();
    await r.rt.commit();
    expect(r.gaps()).toEqual([
      {
        kind: Kind.KIND_UNSPECIFIED,
        fromTimeUs: lastFrame,
        toTimeUs: r.now(),
        reason: GapReason.GAP_REASON_DEVICE_SILENT,
      },
    ]);
  });

  it('marks everything of a device configured simulated: values, waves, alarms, its statuses', async () => {
    const r = silentRig({ simulated: true, afterMs: null });
    r.rt.linkState('connected', r.counters);
    r.rt.ingest(
      frame({
        waves: [{ mdc: 150452, samples: [1, 2, 3] }],
        alarms: [{ id: 'a1', mdc: 196670, flags: Flag.FLAG_ABNORMAL }],
        statuses: [{ state: LinkState.LINK_STATE_CONNECTED }],
      }),
      r.now(),
    );
    await r.rt.commit();
    const items = r.appended.flatMap((a) => [
      ...(a.body.observations ?? []),
      ...((a.body as { waves?: IWaveformChunk[] }).waves ?? []),
      ...((a.body as { alarms?: IAlarm[] }).alarms ?? []),
      ...(a.body.statuses ?? []),
    ]);
    expect(items.length).toBe(5); // obs, wave, alarm, the device's own status, the link status
    for (const x of items) expect((x.flags ?? 0) & Flag.FLAG_SIMULATED).toBe(Flag.FLAG_SIMULATED);
    expect(items.find((x) => 'id' in x && x.id === 'a1')?.flags).toBe(Flag.FLAG_ABNORMAL | Flag.FLAG_SIMULATED);
  });
});
