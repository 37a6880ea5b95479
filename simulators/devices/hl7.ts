// An IHE PCD-01 bedside monitor (HL7 v2 ORU^R01 in MLLP framing; IHE PCD TF-2): numerics every second (HR, SpO2,
// pulse rate, respiration rate, EtCO2), the slow ones (temperature every 10 s, NIBP APERIODIC at each cuff cycle,
// dated by the cuff), waveforms per 256 ms (ECG I, II, III at 250 or 500 Hz, pleth 125 Hz, respiration 62.5 Hz; WCM
// rows for rate and resolution, IHE PCD TF-2 B.8) and PCD-04 alarms (ORU^R40) as the patient's events cross the
// monitor's limits. Built by the decoders' own encoder (decoders/hl7/encode.ts) and simulators/hl7-alarm.ts.
//
// ECG: lead I and lead II are quantised at 5 uV, lead III is sent as II - I in counts (Einthoven's law, exactly, as a
// monitor that derives III from the two measured leads does). Vendor quirks per device (types.ts Quirks): DEMO and
// MSH-11 T (on unless `asReal`), values now and then sent empty with OBX-11 X, a Mindray-style private code, Philips
// MDIL hexadecimal codes in OBX-3.
import { mllpWrap } from '../../decoders/framing/mllp.js';
import { encodePcd01, type EncodeNumeric, type EncodeWave } from '../../decoders/hl7/encode.js';
import { METRICS, UNITS } from '../../decoders/mdc.js';
import type { Truth } from '../ground-truth.js';
import { buildAlarmFrame, type SimAlarm } from '../hl7-alarm.js';
import { monitorHeader, valueFlags } from '../hl7-monitor.js';
import { simulatedEui64 } from '../monitor.js';
import { quantise, schedule } from './schedule.js';
import type { DeviceOptions, Emission, SimDevice } from './types.js';

export const HL7_CHUNK_MS = 256;
export const HL7_ECG_RESOLUTION_MV = 0.005;
export const HL7_INVALID_SAMPLE = 32767;
export const HL7_NIBP_EVERY_S = 120;

type Metric = { mdc: number; refid: string };
type Unit = { mdc: number; refid: string; ucum: string };

/** Philips MDIL form of a context-free MDC code: `<partition hex>-<term hex>` (the decoder reads it back). */
export function mdilCode(mdc: number): string {
  const hex = (n: number, w: number) => n.toString(16).padStart(w, '0');
  return `${hex(Math.floor(mdc / 65536), 4)}-${hex(mdc % 65536, 4)}`;
}

export interface Hl7DeviceOptions extends DeviceOptions {
  /** ECG sample rate: 250 (default) or 500 Hz. */
  ecgRateHz?: 250 | 500;
  /** Waveform messages (default true). */
  waves?: boolean;
  nibpEveryS?: number;
  /** PCD-04 alarms from the patient's state (default true). */
  alarms?: boolean;
}

interface AlarmRule {
  key: string;
  on: (s: { hr: number; spo2: number; rr: number; sys: number }, active: boolean) => boolean;
  alarm: Omit<SimAlarm, 'id' | 'phase' | 'state'>;
}

const SRC_HR = { mdc: 147842, refid: 'MDC_ECG_CARD_BEAT_RATE', containment: '1.1.1.147842' };
const SRC_SPO2 = { mdc: 150456, refid: 'MDC_PULS_OXIM_SAT_O2', containment: '1.2.1.150456' };
const SRC_RR = { mdc: 151562, refid: 'MDC_RESP_RATE', containment: '1.3.1.151562' };
const EVT_HI = { mdc: 196648, refid: 'MDC_EVT_HI' };
const EVT_LO = { mdc: 196670, refid: 'MDC_EVT_LO' };

// Limits with hysteresis (on beyond the limit, off a little inside it), as monitors do, so noise does not flap.
const RULES: AlarmRule[] = [
  {
    key: 'hrhi',
    on: (s, a) => (a ? s.hr > 115 : s.hr > 120),
    alarm: { event: EVT_HI, text: 'HR HIGH', source: SRC_HR, priority: 'PM', kind: 'SP' },
  },
  {
    key: 'hrlo',
    on: (s, a) => (a ? s.hr < 53 : s.hr < 50),
    alarm: { event: EVT_LO, text: 'HR LOW', source: SRC_HR, priority: 'PM', kind: 'SP' },
  },
  {
    key: 'spo2lo',
    on: (s, a) => (a ? s.spo2 < 91 : s.spo2 < 90),
    alarm: { event: EVT_LO, text: 'SpO2 LOW', source: SRC_SPO2, priority: 'PH', kind: 'SP' },
  },
  {
    key: 'apnea',
    on: (s) => s.rr < 1,
    alarm: { event: EVT_LO, text: 'APNEA', source: SRC_RR, priority: 'PH', kind: 'SP' },
  },
];

export function createHl7Monitor(o: Hl7DeviceOptions): SimDevice {
  const q = o.quirks ?? {};
  const mark = { demo: q.demo ?? true, asReal: q.asReal ?? false };
  const flags = valueFlags(mark);
  const identity = { eui64: simulatedEui64(o.bedNo), model: 'VW-SIM-PCD01', bed: `Bed ${o.bedNo}` };
  const offsetMin = o.utcOffsetMin ?? 420;
  const ecgRate = o.ecgRateHz ?? 250;
  const perChunk = {
    ecg: (ecgRate * HL7_CHUNK_MS) / 1000,
    pleth: (125 * HL7_CHUNK_MS) / 1000,
    resp: (62.5 * HL7_CHUNK_MS) / 1000,
  };
  const vitals = schedule(o.bed.startUs, 1e6);
  const waves = schedule(o.bed.startUs, HL7_CHUNK_MS * 1000);
  const temp = schedule(o.bed.startUs, 10e6);
  const cuff = schedule(o.bed.startUs + 15e6, (o.nibpEveryS ?? HL7_NIBP_EVERY_S) * 1e6);
  const tag = identity.eui64.slice(-4);
  let frames = 0;
  let msgNo = 0;
  const active = new Map<string, SimAlarm>();
  let alarmNo = 0;

  const dev: SimDevice = {
    id: o.id,
    protocol: 'hl7',
    clockOffsetMs: 0,
    get frames() {
      return frames;
    },
    emit(nowUs) {
      const out: Emission[] = [];
      const deviceUs = (us: number) => us + dev.clockOffsetMs * 1000;
      const header = (kind: string, us: number) =>
        monitorHeader(identity, {
          controlId: `${tag}${kind}${String(++msgNo).padStart(8, '0')}`,
          timeUs: deviceUs(us),
          utcOffsetMin: offsetMin,
          ...mark,
        });
      const push = (text: string, controlId: string, truth: Truth[]) => {
        out.push({ bytes: mllpWrap(text), truth, frame: frames, controlId });
        frames++;
      };
      const numeric = (
        m: Metric,
        u: Unit,
        path: string,
        value: number | null,
        timeUs: number,
        truth: Truth[],
        us: number,
        extra: Partial<EncodeNumeric> = {},
      ): EncodeNumeric => {
        truth.push({ t: 'obs', dev: o.id, frame: frames, timeUs: us, code: m.refid, value, unit: u.ucum });
        return {
          mdc: m.mdc,
          refid: m.refid,
          containment: path,
          value,
          unitMdc: u.mdc,
          unitRefid: u.refid,
          flags,
          timeUs: deviceUs(timeUs),
          ...extra,
        };
      };
      const finish = (text: string): string => {
        let t = text;
        // Philips MDIL: OBX-3 `<partition>-<term>^<label>^MDIL` instead of `<code>^<refid>^MDC` (values only).
        if (q.mdil)
          t = t.replace(
            /(OBX\|\d+\|NM\|)(\d+)\^(MDC_[A-Z0-9_]+)\^MDC\|/g,
            (_, pre: string, code: string, refid: string) =>
              `${pre}${mdilCode(Number(code))}^${refid.replace(/^MDC_/, '')}^MDIL|`,
          );
        return t;
      };

      for (const k of vitals.due(nowUs)) {
        const end = vitals.endUs(k);
        const s = o.bed.state;
        const missing = (q.missingEvery ?? 0) > 0 && k % (q.missingEvery ?? 1) === 0;
        const truth: Truth[] = [];
        const h = header('N', end);
        const numerics = [
          numeric(
            METRICS.MDC_ECG_CARD_BEAT_RATE,
            UNITS.MDC_DIM_BEAT_PER_MIN,
            '1.1.1.147842',
            Math.round(s.hr),
            end,
            truth,
            end,
          ),
          numeric(
            METRICS.MDC_PULS_OXIM_SAT_O2,
            UNITS.MDC_DIM_PERCENT,
            '1.2.1.150456',
            missing ? null : Math.round(s.spo2),
            end,
            truth,
            end,
          ),
          numeric(
            METRICS.MDC_PULS_OXIM_PULS_RATE,
            UNITS.MDC_DIM_BEAT_PER_MIN,
            '1.2.1.149530',
            Math.round(s.pulse),
            end,
            truth,
            end,
          ),
          numeric(METRICS.MDC_RESP_RATE, UNITS.MDC_DIM_RESP_PER_MIN, '1.3.1.151562', Math.round(s.rr), end, truth, end),
          numeric(
            METRICS.MDC_CONC_AWAY_CO2_ET,
            UNITS.MDC_DIM_PERCENT,
            '1.6.1.151708',
            quantise(s.etco2, 0.1),
            end,
            truth,
            end,
          ),
        ];
        let text = finish(encodePcd01({ ...h, numerics }));
        if (q.localCodes) {
          // Mindray private code (99MNDRY) for ST II in mm: no MDC code is claimed, so it must leave unmapped, with the
          // code as sent (OBX-3) as its vendor code.
          const st = quantise(s.stMm, 0.01);
          text += `OBX|${numerics.length + 2}|NM|ST-II^ST II^99MNDRY|1.1.1.0|${st}|263442^MDC_DIM_MILLI_M^MDC|||||R\r`;
          truth.push({
            t: 'obs',
            dev: o.id,
            frame: frames,
            timeUs: end,
            code: 'ST-II^ST II^99MNDRY',
            value: st,
            unit: 'mm',
          });
        }
        push(text, h.controlId, truth);
        if (o.alarms ?? true) {
          for (const r of RULES) {
            const cur = active.get(r.key);
            const on = r.on(
              { hr: Math.round(s.hr), spo2: Math.round(s.spo2), rr: Math.round(s.rr), sys: Math.round(s.sys) },
              cur !== undefined,
            );
            if (on === (cur !== undefined)) continue;
            const a: SimAlarm = on
              ? { ...r.alarm, id: `${tag}-${r.key}-${++alarmNo}`, phase: 'start', state: 'active' }
              : { ...cur!, phase: 'end', state: 'inactive' };
            if (on) active.set(r.key, a);
            else active.delete(r.key);
            const ah = header('A', end);
            const bytes = buildAlarmFrame(identity, a, {
              controlId: ah.controlId,
              timeUs: deviceUs(end),
              utcOffsetMin: offsetMin,
              ...mark,
            });
            out.push({
              bytes,
              frame: frames,
              controlId: ah.controlId,
              truth: [
                {
                  t: 'alarm',
                  dev: o.id,
                  frame: frames,
                  timeUs: end,
                  code: a.event.refid,
                  phase: a.phase,
                  priority: a.priority,
                },
              ],
            });
            frames++;
          }
        }
      }

      for (const k of temp.due(nowUs)) {
        const end = temp.endUs(k);
        const truth: Truth[] = [];
        const h = header('T', end);
        const numerics = [
          numeric(
            METRICS.MDC_TEMP_BODY,
            UNITS.MDC_DIM_DEGC,
            '1.5.1.150364',
            quantise(o.bed.state.tempC, 0.1),
            end,
            truth,
            end,
          ),
        ];
        push(finish(encodePcd01({ ...h, numerics })), h.controlId, truth);
      }

      for (const k of cuff.due(nowUs)) {
        // The cuff measured over the last ~30 s; the values are dated when the measurement ended (OBX-14), APERIODIC.
        const end = cuff.endUs(k);
        const s = o.bed.state;
        const truth: Truth[] = [];
        const h = header('P', end);
        const u = UNITS.MDC_DIM_MMHG;
        const ex = { method: 'APERIODIC' };
        const numerics = [
          numeric(METRICS.MDC_PRESS_BLD_NONINV_SYS, u, '1.4.1.150021', Math.round(s.sys), end, truth, end, ex),
          numeric(METRICS.MDC_PRESS_BLD_NONINV_DIA, u, '1.4.1.150022', Math.round(s.dia), end, truth, end, ex),
          numeric(METRICS.MDC_PRESS_BLD_NONINV_MEAN, u, '1.4.1.150023', Math.round(s.map), end, truth, end, ex),
        ];
        push(finish(encodePcd01({ ...h, numerics })), h.controlId, truth);
      }

      if (o.waves ?? true) {
        for (const k of waves.due(nowUs)) {
          const end = waves.endUs(k);
          const t0 = o.bed.seconds(end) - HL7_CHUNK_MS / 1000;
          const sig = o.bed.signals;
          const lI = new Array<number>(perChunk.ecg);
          const lII = new Array<number>(perChunk.ecg);
          const lIII = new Array<number>(perChunk.ecg);
          for (let i = 0; i < perChunk.ecg; i++) {
            const e = sig.ecg(t0 + i / ecgRate);
            lI[i] = Math.round(e.i / HL7_ECG_RESOLUTION_MV);
            lII[i] = Math.round(e.ii / HL7_ECG_RESOLUTION_MV);
            lIII[i] = lII[i]! - lI[i]!; // Einthoven: III = II - I
          }
          const gain = 600 * Math.min(2, o.bed.state.pi / 2.5);
          const pleth = Array.from({ length: perChunk.pleth }, (_, i) =>
            Math.round(200 + gain * sig.pleth(t0 + i / 125)),
          );
          const resp = Array.from({ length: perChunk.resp }, (_, i) =>
            Math.round(1000 + 400 * sig.resp(t0 + i / 62.5)),
          );
          const mv = UNITS.MDC_DIM_MILLI_VOLT;
          const dl = UNITS.MDC_DIM_DIMLESS;
          const w = (
            m: Metric,
            path: string,
            samples: number[],
            rateHz: number,
            resolution: number,
            u: Unit,
            invalid?: number,
          ): EncodeWave => ({
            mdc: m.mdc,
            refid: m.refid,
            containment: path,
            samples,
            rateHz,
            resolution,
            unitMdc: u.mdc,
            unitRefid: u.refid,
            ...(invalid !== undefined ? { invalid } : {}),
          });
          const list = [
            w(METRICS.MDC_ECG_ELEC_POTL_I, '1.1.1.131329', lI, ecgRate, HL7_ECG_RESOLUTION_MV, mv, HL7_INVALID_SAMPLE),
            w(
              METRICS.MDC_ECG_ELEC_POTL_II,
              '1.1.1.131330',
              lII,
              ecgRate,
              HL7_ECG_RESOLUTION_MV,
              mv,
              HL7_INVALID_SAMPLE,
            ),
            w(
              METRICS.MDC_ECG_ELEC_POTL_III,
              '1.1.1.131389',
              lIII,
              ecgRate,
              HL7_ECG_RESOLUTION_MV,
              mv,
              HL7_INVALID_SAMPLE,
            ),
            w(METRICS.MDC_PULS_OXIM_PLETH, '1.2.1.150452', pleth, 125, 1, dl),
            w(METRICS.MDC_IMPED_TTHOR, '1.3.1.151780', resp, 62.5, 1, dl),
          ];
          const startUs = end - HL7_CHUNK_MS * 1000;
          const h = monitorHeader(identity, {
            controlId: `${tag}W${String(++msgNo).padStart(8, '0')}`,
            timeUs: deviceUs(startUs),
            utcOffsetMin: offsetMin,
            ...mark,
          });
          const truth: Truth[] = list.map((x) => ({
            t: 'wave',
            dev: o.id,
            frame: frames,
            timeUs: startUs,
            code: x.refid,
            rateHz: x.rateHz,
            first: k * x.samples.length,
            samples: x.samples as number[],
            scale: x.resolution,
          }));
          push(encodePcd01({ ...h, waves: list }), h.controlId, truth);
        }
      }
      return out;
    },
  };
  return dev;
}
