// A simulated ward for load tests: each bedside monitor sends one HL7 PCD-01 ORU^R01 every 250 ms with its waveforms
// (ECG 500 Hz x 3 leads by default, pleth 125 Hz, resp 62.5 Hz) and, every fourth message, its numerics (1 Hz). Waveforms are
// synthetic shapes precomputed over one second, so the simulator spends its time on the wire format, not on maths.
// Over TCP links in either direction: a terminal-server port the gateway dials, or an MLLP client that dials the
// gateway and waits for each ACK as monitors do.
import { connect, type Socket } from 'node:net';
import { createMllpFramer } from '../decoders/framing/mllp.js';
import { encodePcd01, type EncodeWave } from '../decoders/hl7/encode.js';
import { mllpWrap } from '../decoders/framing/mllp.js';
import { METRICS, UNITS } from '../decoders/mdc.js';
import { createRng } from './prng.js';
import { processingId, valueFlags, type SimMarking } from './hl7-monitor.js';
import { simulatedEui64 } from './monitor.js';
import { openTcpSink, type Sink } from './sinks.js';

export const WARD_MESSAGE_MS = 250;

interface WaveDef {
  mdc: number;
  refid: string;
  containment: string;
  rateHz: number;
  resolution: number;
  unit: { mdc: number; refid: string };
  shape: Int16Array; // one second of samples
}

function shape(rateHz: number, f: (t: number) => number): Int16Array {
  const n = Math.round(rateHz);
  return Int16Array.from({ length: n }, (_, i) => Math.round(f(i / rateHz)));
}

const ecg = (lead: number) => (t: number) => {
  const beat = (t * 1.2) % 1; // 72/min
  const qrs = Math.exp(-(((beat - 0.3) / 0.012) ** 2)) * (900 - lead * 150);
  const tw = Math.exp(-(((beat - 0.55) / 0.05) ** 2)) * 200;
  return qrs + tw - 50;
};

// IEEE 11073-10101 ECG lead codes (partition 2): I, II, III, then aVR, aVL, aVF, V1-V6 for larger lead sets.
const LEADS: readonly [number, string][] = [
  [131329, 'I'],
  [131330, 'II'],
  [131389, 'III'],
  [131390, 'AVR'],
  [131391, 'AVL'],
  [131392, 'AVF'],
  [131331, 'V1'],
  [131332, 'V2'],
  [131333, 'V3'],
  [131334, 'V4'],
  [131335, 'V5'],
  [131336, 'V6'],
];

function waveDefs(ecgLeads: number): WaveDef[] {
  const mv = { mdc: UNITS.MDC_DIM_MILLI_VOLT.mdc, refid: UNITS.MDC_DIM_MILLI_VOLT.refid };
  const dimless = { mdc: UNITS.MDC_DIM_DIMLESS.mdc, refid: UNITS.MDC_DIM_DIMLESS.refid };
  return [
    ...LEADS.slice(0, ecgLeads).map(([mdc, name], i): WaveDef => ({
      mdc,
      refid: `MDC_ECG_ELEC_POTL_${name}`,
      containment: `1.1.1.${mdc}`,
      rateHz: 500,
      resolution: 0.001,
      unit: mv,
      shape: shape(500, ecg(i % 3)),
    })),
    {
      mdc: 150452,
      refid: 'MDC_PULS_OXIM_PLETH',
      containment: '1.3.1.150452',
      rateHz: 125,
      resolution: 1,
      unit: dimless,
      shape: shape(125, (t) => 2000 + 1500 * Math.sin(2 * Math.PI * 1.2 * t)),
    },
    {
      mdc: 151780,
      refid: 'MDC_IMPED_TTHOR',
      containment: '1.7.1.151780',
      rateHz: 62.5,
      resolution: 1,
      unit: dimless,
      shape: shape(62.5, (t) => 1000 * Math.sin(2 * Math.PI * 0.25 * t)),
    },
  ];
}

export interface WardMonitor {
  readonly index: number;
  /** The next message (250 ms of waves, numerics every fourth), stamped with `timeUs`. */
  next(timeUs: number): Buffer;
  readonly samplesSent: number;
}

/** `ecgLeads`: 3 by default (I, II, III); up to 12. Marked as simulated (MSH-11 T, OBX-8 DEMO) unless `asReal`. */
export function createWardMonitor(index: number, o: { ecgLeads?: number } & SimMarking = {}): WardMonitor {
  const flags = valueFlags(o);
  const pid = processingId(o);
  const waves = waveDefs(Math.min(12, Math.max(1, o.ecgLeads ?? 3)));
  const rng = createRng(7000 + index);
  const eui = simulatedEui64(index);
  const pos = waves.map(() => 0); // sample index per wave
  let n = 0;
  let samples = 0;
  const hr = 60 + Math.floor(rng() * 40);
  return {
    index,
    get samplesSent() {
      return samples;
    },
    next(timeUs) {
      n++;
      const out: EncodeWave[] = waves.map((w, i) => {
        const from = pos[i] ?? 0;
        // Fractional rates (31.25, 15.625 samples per message) come out exact over time.
        const to = Math.round((n * WARD_MESSAGE_MS * w.rateHz) / 1000);
        pos[i] = to;
        const s = new Array<number>(to - from);
        for (let k = from; k < to; k++) s[k - from] = w.shape[k % w.shape.length] ?? 0;
        samples += s.length;
        return {
          mdc: w.mdc,
          refid: w.refid,
          containment: w.containment,
          samples: s,
          rateHz: w.rateHz,
          resolution: w.resolution,
          unitMdc: w.unit.mdc,
          unitRefid: w.unit.refid,
        };
      });
      const numerics =
        n % 4 === 1
          ? [
              {
                mdc: METRICS.MDC_ECG_CARD_BEAT_RATE.mdc,
                refid: METRICS.MDC_ECG_CARD_BEAT_RATE.refid,
                value: hr + Math.round(rng() * 4),
                unitMdc: UNITS.MDC_DIM_BEAT_PER_MIN.mdc,
                unitRefid: UNITS.MDC_DIM_BEAT_PER_MIN.refid,
                flags,
              },
              {
                mdc: METRICS.MDC_PULS_OXIM_SAT_O2.mdc,
                refid: METRICS.MDC_PULS_OXIM_SAT_O2.refid,
                value: 95 + Math.round(rng() * 4),
                unitMdc: UNITS.MDC_DIM_PERCENT.mdc,
                unitRefid: UNITS.MDC_DIM_PERCENT.refid,
                flags,
              },
              {
                mdc: METRICS.MDC_RESP_RATE.mdc,
                refid: METRICS.MDC_RESP_RATE.refid,
                value: 14 + Math.round(rng() * 4),
                unitMdc: UNITS.MDC_DIM_RESP_PER_MIN.mdc,
                unitRefid: UNITS.MDC_DIM_RESP_PER_MIN.refid,
                flags,
              },
            ]
          : [];
      return mllpWrap(
        encodePcd01({
          controlId: `W${index}-${n}`,
          timeUs,
          utcOffsetMin: 420,
          processingId: pid,
          device: { eui64: eui, model: 'VW-SIM-WARD' },
          bed: { unit: 'WARD', bed: String(index) },
          ...(numerics.length > 0 ? { numerics } : {}),
          waves: out,
        }),
      );
    },
  };
}

/** A monitor behind a terminal-server port: the gateway dials it (tcp transport); it writes and never waits. */
export async function wardTcpMonitor(
  index: number,
  o: { ecgLeads?: number } = {},
): Promise<{ port: number; monitor: WardMonitor; tick(timeUs: number): void; close(): Promise<void> }> {
  const sink: Sink = await openTcpSink('127.0.0.1', 0);
  const monitor = createWardMonitor(index, o);
  return { port: sink.port ?? 0, monitor, tick: (t) => sink.write(monitor.next(t)), close: () => sink.close() };
}

/** A monitor that dials an MLLP listener and waits for each ACK before its next message (skipping ticks meanwhile). */
export function wardMllpMonitor(
  index: number,
  port: number,
  o: { ecgLeads?: number } = {},
): { monitor: WardMonitor; tick(timeUs: number): void; readonly acked: number; readonly late: number; close(): void } {
  const monitor = createWardMonitor(index, o);
  let sock: Socket | null = null;
  let waiting = false;
  let acked = 0;
  let late = 0;
  let closed = false;
  const framer = createMllpFramer();
  const dial = () => {
    if (closed) return;
    const s = connect(port, '127.0.0.1');
    s.setNoDelay(true);
    s.on('connect', () => (sock = s));
    s.on('data', (b: Buffer) =>
      framer.push(b, {
        frame: () => {
          waiting = false;
          acked++;
        },
        error: () => undefined,
      }),
    );
    s.on('error', () => undefined);
    s.on('close', () => {
      sock = null;
      waiting = false;
      setTimeout(dial, 200);
    });
  };
  dial();
  return {
    monitor,
    get acked() {
      return acked;
    },
    get late() {
      return late;
    },
    tick(t) {
      const s = sock;
      if (!s) return;
      if (waiting) {
        late++;
        return;
      }
      waiting = true;
      s.write(monitor.next(t));
    },
    close() {
      closed = true;
      sock?.destroy();
    },
  };
}
