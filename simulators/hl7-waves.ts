// The simulated monitor's other PCD-01 messages: a waveform ORU^R01 per CHUNK_MS (ECG II, pleth, respiration in
// their own OBR, MDC_OBS_WAVE_CTS, IHE PCD TF-2 B.8 WCM rows for rate and resolution), and the slower numerics a
// bedside monitor reports apart from the vitals (NIBP per cuff cycle, temperature). Written by the decoders' own
// encoder, as hl7-monitor.ts does.
import { encodePcd01, type EncodeNumeric } from '../decoders/hl7/encode.js';
import { mllpWrap } from '../decoders/framing/mllp.js';
import { METRICS, UNITS } from '../decoders/mdc.js';
import { INVALID_SAMPLE, WAVES, type WaveChunk } from './ecg.js';
import { monitorHeader, valueFlags, type MonitorIdentity, type SimMarking } from './hl7-monitor.js';

export interface FrameTiming extends SimMarking {
  controlId: string;
  timeUs: number;
  utcOffsetMin?: number;
}

/** One waveform message: the chunk's first sample is at `timeUs` (OBR-7), its end in OBR-8. */
export function buildWaveFrame(id: MonitorIdentity, w: WaveChunk, o: FrameTiming): Buffer {
  return mllpWrap(
    encodePcd01({
      ...monitorHeader(id, o),
      waves: [
        {
          ...METRICS.MDC_ECG_ELEC_POTL_II,
          containment: '1.1.1.131330',
          samples: w.ecg,
          rateHz: WAVES.ecg.rateHz,
          resolution: WAVES.ecg.resolution,
          unitMdc: UNITS.MDC_DIM_MILLI_VOLT.mdc,
          unitRefid: UNITS.MDC_DIM_MILLI_VOLT.refid,
          invalid: INVALID_SAMPLE,
        },
        {
          ...METRICS.MDC_PULS_OXIM_PLETH,
          containment: '1.2.1.150452',
          samples: w.pleth,
          rateHz: WAVES.pleth.rateHz,
          resolution: WAVES.pleth.resolution,
          unitMdc: UNITS.MDC_DIM_DIMLESS.mdc,
          unitRefid: UNITS.MDC_DIM_DIMLESS.refid,
        },
        {
          ...METRICS.MDC_IMPED_TTHOR,
          containment: '1.3.1.151780',
          samples: w.resp,
          rateHz: WAVES.resp.rateHz,
          resolution: WAVES.resp.resolution,
          unitMdc: UNITS.MDC_DIM_DIMLESS.mdc,
          unitRefid: UNITS.MDC_DIM_DIMLESS.refid,
        },
      ],
    }),
  );
}

export interface SlowNumerics {
  /** null when this message carries no cuff measurement */
  nibp: { sys: number; dia: number; mean: number; timeUs: number } | null;
  tempC: number;
}

/** NIBP (APERIODIC, with the time the cuff measured) and body temperature. */
export function buildSlowNumericsFrame(id: MonitorIdentity, v: SlowNumerics, o: FrameTiming): Buffer {
  const flags = valueFlags(o);
  const numerics: EncodeNumeric[] = [];
  if (v.nibp) {
    const u = UNITS.MDC_DIM_MMHG;
    const row = (m: { mdc: number; refid: string }, path: string, value: number): EncodeNumeric => ({
      mdc: m.mdc,
      refid: m.refid,
      containment: path,
      value,
      unitMdc: u.mdc,
      unitRefid: u.refid,
      flags,
      timeUs: v.nibp?.timeUs ?? o.timeUs,
      method: 'APERIODIC',
    });
    numerics.push(row(METRICS.MDC_PRESS_BLD_NONINV_SYS, '1.4.1.150021', v.nibp.sys));
    numerics.push(row(METRICS.MDC_PRESS_BLD_NONINV_DIA, '1.4.1.150022', v.nibp.dia));
    numerics.push(row(METRICS.MDC_PRESS_BLD_NONINV_MEAN, '1.4.1.150023', v.nibp.mean));
  }
  numerics.push({
    mdc: METRICS.MDC_TEMP_BODY.mdc,
    refid: METRICS.MDC_TEMP_BODY.refid,
    containment: '1.5.1.150364',
    value: Math.round(v.tempC * 10) / 10,
    unitMdc: UNITS.MDC_DIM_DEGC.mdc,
    unitRefid: UNITS.MDC_DIM_DEGC.refid,
    flags,
    timeUs: o.timeUs,
  });
  return mllpWrap(
    encodePcd01({
      ...monitorHeader(id, o),
      numerics,
    }),
  );
}
