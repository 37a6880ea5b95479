// A device's diagnosis through DeviceRuntime, on the gateway's injectable clock moved with vitest's timers: what the
// state is, what a person reads (status, log), and how often the log speaks.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import { encodeNonin8Frame } from '../decoders/nonin/encode.js';
import { Flag, LinkState, type IDeviceStatus, type IObservation } from '../proto/index.js';
import type { Decoded } from '../decoders/decoded.js';
import { DeviceRuntime } from './device-runtime.js';
import type { DeviceCounters } from './device-link.js';
import { DIAGNOSIS_LOG_INTERVAL_MS, diagnose, lineName, type LineSettings } from './diagnosis.js';
import { uartReread } from './diagnosis-uart.js';
import type { Outbox } from './outbox/outbox.js';

const N81 = (baudRate: number): LineSettings => ({ baudRate, dataBits: 8, parity: 'none', stopBits: 1 });

/** Nonin 8 frames as an oximeter sends them (one a second; the values are synthetic). */
const nonin8 = (n: number) =>
  Buffer.concat(Array.from({ length: n }, (_, i) => encodeNonin8Frame({ hr: 60 + (i % 40), spo2: 90 + (i % 10) })));

function rig(o: { protocol?: string; line?: LineSettings; bytes?: () => Buffer; afterMs?: number | null } = {}) {
  let t = 1.8e15;
  const statuses: IDeviceStatus[] = [];
  const observations: IObservation[] = [];
  const logs: { level: number; msg: string; state?: string; diagnosis?: string }[] = [];
  const outbox = {
    recoveredLastUs: new Map<string, number>(),
    append: (r: { body: { statuses?: IDeviceStatus[]; observations?: IObservation[] } }) => {
      statuses.push(...(r.body.statuses ?? []));
      observations.push(...(r.body.observations ?? []));
      return Promise.resolve({});
    },
  } as unknown as Outbox;
  const logger = pino({ level: 'info' }, { write: (s: string) => logs.push(JSON.parse(s) as (typeof logs)[number]) });
  const rt = new DeviceRuntime({
    site: 's1',
    gateway: 'g1',
    device: 'ox1',
    protocol: o.protocol ?? 'nonin8',
    losesDataWhileDown: true,
    outbox,
    silenceAfterMs: o.afterMs === undefined ? 3000 : o.afterMs,
    line: o.line,
    recentBytes: o.bytes,
    batching: { obsMs: 0, waveMs: 0, alarmMs: 0, maxBatchBytes: 64 * 1024 },
    clock: { maxFutureMs: 60_000, jumpMs: 300_000, minPlausibleUs: 0 },
    logger,
    nowUs: () => t,
  });
  const counters: DeviceCounters = { frames: 0, badFrames: 0, garbageBytes: 0, bytes: 0, reconnects: 0, errors: {} };
  const frame = (): Decoded => ({
    observations: [{ mdc: 150456, refid: 'MDC_PULS_OXIM_SAT_O2', number: 97, unit: '%', time: { gatewayTimeUs: t } }],
    waves: [],
    alarms: [],
    warnings: [],
  });
  /** `ms` of time with the gateway's one-second diagnosis tick. */
  const run = (ms: number, each?: () => void) => {
    for (let i = 0; i < ms / 1000; i++) {
      each?.();
      t += 1e6;
      vi.advanceTimersByTime(1000);
      rt.diagnose();
    }
  };
  const good = () => {
    counters.bytes += 4;
    counters.frames++;
    rt.ingest(frame(), t);
  };
  const bad = (code = 'VW_ERR_NONIN_CHECKSUM') => {
    counters.bytes += 4;
    counters.frames++;
    counters.badFrames++;
    counters.errors[code as 'VW_ERR_NONIN_CHECKSUM'] = (counters.errors[code as 'VW_ERR_NONIN_CHECKSUM'] ?? 0) + 1;
  };
  const diagLogs = () => logs.filter((l) => l.msg === 'device diagnosis' || l.msg.startsWith('device silent'));
  return { rt, counters, run, good, bad, statuses, observations, logs, diagLogs };
}

describe('device diagnosis', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('a Nonin 8 oximeter on a link configured as Masimo: bytes but no valid frames, looks like nonin8 at 9600', () => {
    const bytes = nonin8(20);
    const r = rig({ protocol: 'masimo', line: N81(9600), bytes: () => bytes });
    r.rt.linkState('connected', r.counters);
    expect(r.rt.diagnose().state).toBe('waiting');
    r.counters.bytes += bytes.length;
    r.counters.frames += 1;
    r.counters.badFrames += 1; // the delimited framer found one "line" and the Masimo decoder rejected it
    r.run(3000);
    const d = r.rt.diagnosis;
    expect(d.state).toBe('no-frames');
    expect(d.text).toMatch(
      /^80 bytes but no valid masimo frame since the link opened \(3 s\), 1 frames rejected: looks like nonin8 at 9600 baud: set the device's protocol to nonin8$/,
    );
    expect(d.suggestion).toEqual({ protocol: 'nonin8' });
    const silent = r.statuses.at(-1);
    expect(silent?.state).toBe(LinkState.LINK_STATE_SILENT);
    expect(silent?.diagnosis).toBe(d.text);
    // One log line says it, with the diagnosis: the periodic evaluation does not repeat it.
    r.run(60_000);
    expect(r.diagLogs().map((l) => [l.state, l.diagnosis?.slice(0, 40)])).toEqual([['no-frames', d.text.slice(0, 40)]]);
  });

  it("a Nonin 8 at 9600 read at 19200: names the sender's rate, not a protocol", () => {
    const bytes = uartReread(nonin8(200), N81(9600), N81(19200));
    const r = rig({ protocol: 'nonin8', line: N81(19200), bytes: () => bytes });
    r.rt.linkState('connected', r.counters);
    r.counters.bytes += bytes.length;
    r.run(3000);
    expect(r.rt.diagnosis.state).toBe('no-frames');
    expect(r.rt.diagnosis.text).toMatch(
      /: looks like a sender at 9600 baud read at 19200 \(every bit read 2 times\): set baudRate 9600/,
    );
    expect(r.rt.diagnosis.suggestion).toEqual({ baudRate: 9600 });
  });

  it('no bytes at all; a Datex S/5 is reminded that it waits to be asked', () => {
    const r = rig({ protocol: 'datex', afterMs: 15_000 });
    r.rt.linkState('connected', r.counters);
    r.run(15_000);
    expect(r.rt.diagnosis.state).toBe('no-bytes');
    expect(r.rt.diagnosis.text).toBe(
      'no bytes from the device since the link opened (15 s): is it on, and is its data output enabled and cabled? (an S/5 sends only after the gateway requests a transmission)',
    );
  });

  it('checksum errors: a share of the frames rejected is reported with its code, in the status and once in the log', () => {
    const r = rig({ protocol: 'nonin8' });
    r.rt.linkState('connected', r.counters);
    // 25 frames a second, 3 of them rejected: 12 %.
    const second = () => {
      for (let i = 0; i < 22; i++) r.good();
      for (let i = 0; i < 3; i++) r.bad();
    };
    r.run(9_000, second);
    expect(r.rt.diagnosis.state).toBe('ok'); // the first 10 s window is still open
    r.run(1_000, second);
    expect(r.rt.diagnosis.state).toBe('frame-errors');
    expect(r.rt.diagnosis.text).toBe(
      'checksum errors 12 % (30 of 250 frames rejected in 10 s, mostly VW_ERR_NONIN_CHECKSUM): check the cable and its connectors, a long or unshielded run, and the line settings',
    );
    const st = r.statuses.at(-1);
    expect([st?.state, st?.diagnosis]).toEqual([LinkState.LINK_STATE_CONNECTED, r.rt.diagnosis.text]);
    r.run(30_000, second);
    // Clean frames again: the state and the status say so.
    r.run(20_000, () => {
      for (let i = 0; i < 25; i++) r.good();
    });
    expect(r.rt.diagnosis.state).toBe('ok');
    expect(r.statuses.at(-1)?.diagnosis).toBeUndefined();
    expect(r.diagLogs().map((l) => [l.level, l.state])).toEqual([
      [40, 'frame-errors'],
      [30, 'ok'],
    ]);
  });

  it('most frames rejected: the few that pass are flagged questionable, and the bytes are analysed (a sender at 9600 read at 19200)', async () => {
    let ring = uartReread(nonin8(200), N81(9600), N81(19200));
    const r = rig({ protocol: 'nonin8', line: N81(19200), bytes: () => ring });
    r.rt.linkState('connected', r.counters);
    // Noise that fits Nonin 8's bit layout and ranges now and then: 1 frame in 5 passes.
    const second = () => {
      r.good();
      for (let i = 0; i < 4; i++) r.bad('VW_ERR_NONIN_RANGE');
    };
    r.run(10_000, second);
    await r.rt.commit();
    expect(r.observations.every((o) => ((o.flags ?? 0) & Flag.FLAG_QUESTIONABLE) === 0)).toBe(true); // before the verdict
    r.run(1_000, second);
    await r.rt.commit();
    expect(r.rt.diagnosis.state).toBe('frame-errors');
    expect(r.rt.diagnosis.text).toMatch(
      /^frame errors 80 % \(40 of 50 frames rejected in 10 s, mostly VW_ERR_NONIN_RANGE\), values flagged questionable: looks like a sender at 9600 baud read at 19200/,
    );
    expect(r.rt.diagnosis.suggestion).toEqual({ baudRate: 9600 });
    expect((r.observations.at(-1)?.flags ?? 0) & Flag.FLAG_QUESTIONABLE).toBe(Flag.FLAG_QUESTIONABLE);
    // Set right: clean chunks empty the link's ring; no flag once a whole window is clean.
    ring = Buffer.alloc(0);
    r.run(20_000, () => {
      for (let i = 0; i < 5; i++) r.good();
    });
    await r.rt.commit();
    expect(r.rt.diagnosis.state).toBe('ok');
    expect((r.observations.at(-1)?.flags ?? 0) & Flag.FLAG_QUESTIONABLE).toBe(0);
  });

  it('logs a flapping state at most once per interval, and the state that holds at its end', () => {
    const r = rig({ protocol: 'nonin8' });
    r.rt.linkState('connected', r.counters);
    // Alternate 10 s windows of 40 % errors and clean frames for 2 minutes.
    let k = 0;
    r.run(120_000, () => {
      const noisy = Math.floor(k++ / 10) % 2 === 1;
      for (let i = 0; i < 5; i++) r.good();
      if (noisy) for (let i = 0; i < 3; i++) r.bad();
    });
    const n = r.diagLogs().length;
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThanOrEqual(Math.ceil(120_000 / DIAGNOSIS_LOG_INTERVAL_MS));
  });

  it("a link that cannot open says what to check, with the OS's words", () => {
    const d = diagnose({
      protocol: 'nonin8',
      line: N81(9600),
      link: 'disconnected',
      linkReason: 'VW_ERR_LINK_OPEN',
      linkDetail: 'Error: No such file or directory, cannot open /dev/ttyUSB0',
      nowUs: 0,
      upSinceUs: 0,
      lastFrameUs: 0,
      windowUs: 3e6,
      silent: false,
      bytesSinceFrame: 0,
      badSinceFrame: 0,
      errors: null,
      inference: () => null,
    });
    expect(d).toEqual({
      state: 'down',
      text: 'cannot open the link (Error: No such file or directory, cannot open /dev/ttyUSB0): check the serial path or host and port, that the adapter is plugged in, and that no other program holds it',
    });
    expect(lineName({ baudRate: 19200, dataBits: 8, parity: 'even', stopBits: 1 })).toBe('19200 8E1');
  });
});
