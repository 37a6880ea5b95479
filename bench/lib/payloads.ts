// Realistic Batches for the benches: what a bedside monitor's gateway publishes every second.
// Plain objects of the generated interfaces (IBatch), as the gateway builds them before
// Batch.encode; other benches (broker, fan-out, e2e) can publish the same payloads.
import { Flag, Kind, type IBatch, type IObservation, type ISource } from '../../proto/index.js';

/** A fixed start time (2025-01-15T08:00:00Z) so sizes do not change from run to run. */
export const BENCH_EPOCH_US = 1_736_928_000_000_000;

const SOURCE: ISource = {
  site: 'bv-soc-son',
  gateway: 'gw-icu-01',
  device: '0012A3FFFE4B5C6D',
  model: 'VS900',
  protocol: 'hl7',
  bed: 'ICU-07',
};

// [mdc, refid, value, UCUM unit, unit MDC, unit refid, flags, method, range]
type Row = readonly [number, string, number, string, number, string, number, string, string];

// IEEE 11073-10101 codes (partition × 65536 + term) and MDC_DIM units as an HL7 PCD-01 ORU^R01
// from a multi-parameter monitor reports them; every code is one of decoders/mdc.ts (verified).
const ROWS: readonly Row[] = [
  [147842, 'MDC_ECG_CARD_BEAT_RATE', 72, '/min', 264864, 'MDC_DIM_BEAT_PER_MIN', 0, '', '50-120'],
  [151578, 'MDC_TTHOR_RESP_RATE', 17, '/min', 264928, 'MDC_DIM_RESP_PER_MIN', 0, '', '8-30'],
  [150456, 'MDC_PULS_OXIM_SAT_O2', 97, '%', 262688, 'MDC_DIM_PERCENT', 0, '', '90-100'],
  [149530, 'MDC_PULS_OXIM_PULS_RATE', 73, '/min', 264864, 'MDC_DIM_BEAT_PER_MIN', 0, '', '50-120'],
  [150448, 'MDC_PULS_OXIM_PERF_REL', 0.38, '%', 262688, 'MDC_DIM_PERCENT', Flag.FLAG_LOW_PERFUSION, '', ''],
  [151562, 'MDC_RESP_RATE', 16, '/min', 264928, 'MDC_DIM_RESP_PER_MIN', 0, '', '8-30'],
  [151708, 'MDC_CONC_AWAY_CO2_ET', 5.1, '%', 262688, 'MDC_DIM_PERCENT', 0, '', '4.5-6'],
  [151594, 'MDC_CO2_RESP_RATE', 15, '/min', 264928, 'MDC_DIM_RESP_PER_MIN', 0, '', '8-30'],
  [150301, 'MDC_PRESS_CUFF_SYS', 124, 'mm[Hg]', 266016, 'MDC_DIM_MMHG', 0, 'APERIODIC', '90-160'],
  [150302, 'MDC_PRESS_CUFF_DIA', 78, 'mm[Hg]', 266016, 'MDC_DIM_MMHG', 0, 'APERIODIC', '50-90'],
  [150303, 'MDC_PRESS_CUFF_MEAN', 93, 'mm[Hg]', 266016, 'MDC_DIM_MMHG', 0, 'APERIODIC', '60-110'],
  [150037, 'MDC_PRESS_BLD_ART_ABP_SYS', 131, 'mm[Hg]', 266016, 'MDC_DIM_MMHG', 0, '', '90-160'],
  [150038, 'MDC_PRESS_BLD_ART_ABP_DIA', 74, 'mm[Hg]', 266016, 'MDC_DIM_MMHG', Flag.FLAG_QUESTIONABLE, '', '50-90'],
  [150039, 'MDC_PRESS_BLD_ART_ABP_MEAN', 93, 'mm[Hg]', 266016, 'MDC_DIM_MMHG', 0, '', '60-110'],
  [150344, 'MDC_TEMP', 36.8, 'Cel', 268192, 'MDC_DIM_DEGC', 0, '', '36-38'],
];

/** An obs Batch of 15 numerics, one per parameter of a monitor's one-second report. */
export function observationBatch(gatewayTimeUs = BENCH_EPOCH_US, seq = 1): IBatch {
  const clockOffsetUs = -1_250_000; // the device clock runs 1.25 s behind the gateway's
  const observations: IObservation[] = ROWS.map(
    ([mdc, refid, value, unit, unitMdc, unitRefid, flags, method, range], i) => ({
      time: {
        gatewayTimeUs: gatewayTimeUs + i * 37,
        deviceTimeUs: gatewayTimeUs - 18_000 + clockOffsetUs,
        clockOffsetUs,
        deviceUtcOffsetMin: 420,
      },
      mdc,
      refid,
      number: value,
      unit,
      unitMdc,
      vendorCode: `${mdc}^${refid}^MDC`,
      vendorUnit: `${unitMdc}^${unitRefid}^MDC`,
      flags,
      containment: `1.${i < 2 ? 1 : i < 8 ? 2 : 3}.1.${mdc}`,
      method,
      range,
    }),
  );
  return {
    source: SOURCE,
    kind: Kind.KIND_OBS,
    seq,
    backfill: false,
    publishTimeUs: gatewayTimeUs + 2_400,
    observations,
  };
}

/**
 * ECG lead II as a monitor samples it: raw counts of 1.221 µV, so a 1.2 mV R wave is ~1000.
 * PQRST from Gaussian waves at 72 /min, baseline wander and a little noise from a fixed-seed
 * generator, so every run encodes the same bytes.
 */
export function ecgSamples(count: number, rateHz = 500, bpm = 72): number[] {
  const waves = [
    // [amplitude (counts), centre (s from beat start), width (s)]
    [120, 0.1, 0.025], // P
    [-120, 0.23, 0.008], // Q
    [1000, 0.25, 0.01], // R
    [-280, 0.27, 0.01], // S
    [260, 0.5, 0.045], // T
  ] as const;
  const beat = 60 / bpm;
  let seed = 0x2f6b1d;
  const noise = (): number => {
    seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
    return ((seed >>> 16) % 17) - 8; // -8..8 counts
  };
  const out: number[] = [];
  for (let n = 0; n < count; n++) {
    const t = n / rateHz;
    const phase = t % beat;
    let v = 40 * Math.sin(2 * Math.PI * 0.3 * t);
    for (const [a, c, w] of waves) v += a * Math.exp(-(((phase - c) / w) ** 2) / 2);
    out.push(Math.round(v) + noise());
  }
  return out;
}

/** A wave Batch holding one chunk of `count` ECG lead II samples at 500 Hz. */
export function ecgBatch(count = 500, gatewayTimeUs = BENCH_EPOCH_US, seq = 1): IBatch {
  return {
    source: SOURCE,
    kind: Kind.KIND_WAVE,
    seq,
    backfill: false,
    publishTimeUs: gatewayTimeUs + 1_100,
    waves: [
      {
        time: { gatewayTimeUs, deviceTimeUs: gatewayTimeUs - 1_268_000, clockOffsetUs: -1_250_000 },
        mdc: 131330,
        refid: 'MDC_ECG_ELEC_POTL_II',
        sampleRateHz: 500,
        firstSample: 1_800_000,
        samples: ecgSamples(count),
        scale: 0.001221,
        offset: 0,
        unit: 'mV',
        invalidValue: 32767,
        vendorCode: '131330^MDC_ECG_ELEC_POTL_II^MDC',
        flags: 0,
      },
    ],
  };
}
