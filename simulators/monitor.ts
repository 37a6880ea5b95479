// Runs a simulated PCD-01 monitor writing to a sink: vitals in one ORU^R01 a second (configurable), waveforms
// (ECG II, pleth, respiration) in one ORU^R01 per CHUNK_MS, NIBP and temperature in a slower ORU^R01, and, when
// asked, scripted alarm episodes as PCD-04 ORU^R40.
import { nowUs } from '../gateway/device-link.js';
import { CHUNK_MS, createWaveSynth } from './ecg.js';
import { buildAlarmFrame, type SimAlarm } from './hl7-alarm.js';
import { buildPcd01Frame, type MonitorIdentity } from './hl7-monitor.js';
import { buildSlowNumericsFrame, buildWaveFrame, type SlowNumerics } from './hl7-waves.js';
import { createPatient } from './physiology.js';
import { createRng } from './prng.js';
import type { Sink } from './sinks.js';
import type { Vitals } from './physiology.js';

export interface MonitorOptions {
  identity: MonitorIdentity;
  sink: Sink;
  seed: number;
  intervalMs?: number;
  /** OBX-8 DEMO on values (default true). */
  demo?: boolean;
  /** No simulator marks at all (MSH-11 P, no DEMO): conformance tests only; say so in the log. */
  asReal?: boolean;
  utcOffsetMin?: number;
  /** Waveform messages every CHUNK_MS (default true). */
  waves?: boolean;
  /** Temperature (and NIBP when a cuff cycle is due) every this many ms (default 10 s; 0 = never). */
  slowNumericsEveryMs?: number;
  /** NIBP cuff cycle (default 2 min; the first right at start). */
  nibpEveryMs?: number;
  /** Scripted alarm episodes: a periodic ECG lead-off (technical) and HR/SpO2 limit alarms (physiological). */
  alarms?: boolean;
  /** Called after each vitals frame is handed to the sink, with the values it carried. */
  onSend?: (v: Vitals, timeUs: number, controlId: string) => void;
  /** Called after each waveform frame, with its first sample's time and when it was written. */
  onWave?: (chunkStartUs: number, writtenUs: number) => void;
}

export interface RunningMonitor {
  readonly sent: number;
  readonly wavesSent: number;
  stop(): void;
}

export function simulatedEui64(bed: number): string {
  // First octet 0x02: a locally administered id, never a real vendor's.
  return `02565700000000${(bed & 0xff).toString(16).padStart(2, '0')}`.toUpperCase();
}

/** A waveform stream that fell this far behind (a paused process) skips ahead: the decoder sees the hole. */
const MAX_WAVE_CATCH_UP_MS = 2000;
const LEAD_OFF_PERIOD_MS = 90_000;
const LEAD_OFF_MS = 10_000;

export function runMonitor(o: MonitorOptions): RunningMonitor {
  const patient = createPatient(o.seed);
  const interval = o.intervalMs ?? 1000;
  const utcOffsetMin = o.utcOffsetMin ?? 420;
  const mark = { demo: o.demo ?? true, asReal: o.asReal ?? false };
  const tag = o.identity.eui64.slice(-4);
  const timers: NodeJS.Timeout[] = [];
  let stopped = false;
  let sent = 0;
  let wavesSent = 0;
  let latest: Vitals = { hr: 75, spo2: 97, rr: 15, pulse: 75 };
  const startMs = Math.floor(nowUs() / 1000);

  const tick = (): void => {
    const v = patient.step(interval / 1000);
    latest = v;
    const t = nowUs();
    const controlId = `${tag}${String(sent + 1).padStart(8, '0')}`;
    o.sink.write(buildPcd01Frame(o.identity, v, { controlId, timeUs: t, utcOffsetMin, ...mark }));
    sent++;
    o.onSend?.(v, t, controlId);
    if (o.alarms) checkAlarms(v, t);
  };
  timers.push(setInterval(tick, interval));
  setImmediate(tick);

  // ---- waveforms: chunk k covers [startMs + k*CHUNK_MS, +CHUNK_MS) and leaves once it has been "acquired".
  const synth = createWaveSynth(o.seed);
  let chunk = 0;
  const leadOffAt = 20_000 + ((o.seed * 7919) % 89) * 1000; // episodes spread over the beds and the period
  const leadOff = (ms: number): boolean =>
    o.alarms === true && ms - startMs >= leadOffAt && (ms - startMs - leadOffAt) % LEAD_OFF_PERIOD_MS < LEAD_OFF_MS;
  const waveTick = (): void => {
    if (stopped) return;
    const now = nowUs() / 1000;
    if (now - (startMs + (chunk + 1) * CHUNK_MS) > MAX_WAVE_CATCH_UP_MS)
      chunk = Math.floor((now - startMs) / CHUNK_MS) - 1;
    while (startMs + (chunk + 1) * CHUNK_MS <= now) {
      const startChunkMs = startMs + chunk * CHUNK_MS;
      const w = synth.next(latest.hr, latest.rr, leadOff(startChunkMs));
      o.sink.write(
        buildWaveFrame(o.identity, w, {
          controlId: `${tag}W${String(chunk).padStart(8, '0')}`,
          timeUs: startChunkMs * 1000,
          utcOffsetMin,
          ...mark,
        }),
      );
      wavesSent++;
      o.onWave?.(startChunkMs * 1000, nowUs());
      chunk++;
    }
    const t = setTimeout(waveTick, Math.max(1, startMs + (chunk + 1) * CHUNK_MS - now));
    timers[1] = t;
  };
  if (o.waves ?? true) timers[1] = setTimeout(waveTick, CHUNK_MS);

  // ---- NIBP and temperature.
  const rng = createRng(o.seed ^ 0xb10d);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const sysBase = 118 + gauss() * 10;
  const diaBase = 74 + gauss() * 6;
  let temp = 36.8 + gauss() * 0.3;
  let lastNibp = -Infinity;
  let slowSent = 0;
  const nibpEvery = o.nibpEveryMs ?? 120_000;
  const slow = (): void => {
    const t = nowUs();
    temp += 0.02 * (36.9 - temp) + 0.02 * gauss();
    let nibp: SlowNumerics['nibp'] = null;
    if (t / 1000 - lastNibp >= nibpEvery) {
      lastNibp = t / 1000;
      const sys = Math.round(sysBase + gauss() * 5);
      const dia = Math.round(diaBase + gauss() * 3);
      nibp = { sys, dia, mean: Math.round(dia + (sys - dia) / 3), timeUs: t };
    }
    slowSent++;
    o.sink.write(
      buildSlowNumericsFrame(
        o.identity,
        { nibp, tempC: temp },
        { controlId: `${tag}S${String(slowSent).padStart(8, '0')}`, timeUs: t, utcOffsetMin, ...mark },
      ),
    );
  };
  const slowEvery = o.slowNumericsEveryMs ?? 10_000;
  if (slowEvery > 0) {
    timers[2] = setInterval(slow, slowEvery);
    timers[3] = setTimeout(slow, Math.min(slowEvery, 500));
  }

  // ---- alarms: limit alarms from the vitals, lead-off episodes from the script.
  const active = new Map<string, SimAlarm>();
  let alarmSeq = 0;
  const sendAlarm = (a: SimAlarm, t: number): void => {
    alarmSeq++;
    o.sink.write(
      buildAlarmFrame(o.identity, a, {
        controlId: `${tag}A${String(alarmSeq).padStart(8, '0')}`,
        timeUs: t,
        utcOffsetMin,
        ...mark,
      }),
    );
  };
  const setAlarm = (
    key: string,
    on: boolean,
    make: () => Omit<SimAlarm, 'id' | 'phase' | 'state'>,
    t: number,
  ): void => {
    const cur = active.get(key);
    if (on && !cur) {
      alarmSeq++;
      const a: SimAlarm = { ...make(), id: `${tag}-${key}-${alarmSeq}`, phase: 'start', state: 'active' };
      active.set(key, a);
      sendAlarm(a, t);
    } else if (!on && cur) {
      active.delete(key);
      sendAlarm({ ...cur, phase: 'end', state: 'inactive' }, t);
    }
  };
  const ECG_SRC = { mdc: 147842, refid: 'MDC_ECG_CARD_BEAT_RATE', containment: '1.1.1.147842' };
  const SPO2_SRC = { mdc: 150456, refid: 'MDC_PULS_OXIM_SAT_O2', containment: '1.2.1.150456' };
  function checkAlarms(v: Vitals, t: number): void {
    setAlarm(
      'leadoff',
      leadOff(t / 1000),
      () => ({
        event: { mdc: 196680, refid: 'MDC_EVT_LEAD_OFF' },
        text: 'ECG LEAD OFF',
        source: ECG_SRC,
        priority: 'PM',
        kind: 'ST',
      }),
      t,
    );
    const hrOn = active.has('hrhigh') ? v.hr > 100 : v.hr > 105;
    setAlarm(
      'hrhigh',
      hrOn,
      () => ({
        event: { mdc: 196648, refid: 'MDC_EVT_HI' },
        text: 'HR HIGH',
        source: ECG_SRC,
        priority: 'PM',
        kind: 'SP',
      }),
      t,
    );
    const spo2On = active.has('spo2low') ? v.spo2 < 93 : v.spo2 < 92;
    setAlarm(
      'spo2low',
      spo2On,
      () => ({
        event: { mdc: 196670, refid: 'MDC_EVT_LO' },
        text: 'SpO2 LOW',
        source: SPO2_SRC,
        priority: 'PH',
        kind: 'SP',
      }),
      t,
    );
  }

  return {
    get sent() {
      return sent;
    },
    get wavesSent() {
      return wavesSent;
    },
    stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
    },
  };
}
