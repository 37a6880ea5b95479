// hl7: HL7 v2 PCD-01 decoding, bytes to encoded protobuf Batch bytes, against two npm HL7 parsers
// (simple-hl7, @medplum/core 4.5) parsing the same message and extracting the same OBX values
// (code, reference id, value, unit) in the same run. Two messages: a realistic 1.5 KB numerics
// ORU with 15 OBX rows, and a waveform ORU (ECG II 500 Hz, pleth 125 Hz, resp 62.5 Hz, 1 s).
import { createRequire } from 'node:module';
import { Hl7Message } from '@medplum/core';
import { encodeBatch } from '../proto/encode-batch.js';
import { createHl7Decoder } from '../decoders/hl7/decoder.js';
import { encodePcd01, type EncodeNumeric } from '../decoders/hl7/encode.js';
import { METRICS, UNITS } from '../decoders/mdc.js';
import { figure } from './lib/report.js';
import { measureRate, ratePreset } from './lib/stats.js';
import type { Bench, BenchResult } from './lib/types.js';
import { createPipeline } from '../decoders/pipeline.js';
import { getProtocol } from '../decoders/registry.js';
import { createRng } from '../simulators/prng.js';
import { ALL_FUZZ_TARGETS } from '../test/fuzz-targets.js';

const require = createRequire(import.meta.url);
const simpleHl7 = require('simple-hl7') as { Parser: new () => { parse(s: string): SimpleMessage } };
interface SimpleSegment {
  name: string;
  getComponent(f: number, c: number): string;
  getField(f: number): string;
}
interface SimpleMessage {
  getSegments(name: string): SimpleSegment[];
}

const T = Date.UTC(2026, 10, 23, 7, 0, 0) * 1000;
const M = METRICS;
const U = UNITS;
const num = (
  m: { mdc: number; refid: string },
  u: { mdc: number; refid: string },
  value: number,
  path: string,
): EncodeNumeric => ({ mdc: m.mdc, refid: m.refid, value, unitMdc: u.mdc, unitRefid: u.refid, containment: path });

export function numericsMessage(): Buffer {
  return Buffer.from(
    encodePcd01({
      controlId: 'BENCH0001',
      timeUs: T,
      utcOffsetMin: 420,
      sender: { name: 'MINDRAY_EGATEWAY', eui64: '00A03700273EDE18' },
      device: { eui64: '000F14049B507238', model: 'BeneVision N12' },
      bed: { unit: 'ICU', bed: '12' },
      numerics: [
        num(M.MDC_ECG_CARD_BEAT_RATE, U.MDC_DIM_BEAT_PER_MIN, 72, '1.7.4.147842'),
        num(M.MDC_PULS_OXIM_SAT_O2, U.MDC_DIM_PERCENT, 97, '1.3.1.150456'),
        num(M.MDC_PULS_OXIM_PULS_RATE, U.MDC_DIM_BEAT_PER_MIN, 71, '1.3.1.149530'),
        num(M.MDC_BLD_PERF_INDEX, U.MDC_DIM_PERCENT, 1.76, '1.3.1.150488'),
        num(M.MDC_PRESS_CUFF_SYS, U.MDC_DIM_MMHG, 121, '1.1.9.150301'),
        num(M.MDC_PRESS_CUFF_DIA, U.MDC_DIM_MMHG, 78, '1.1.9.150302'),
        num(M.MDC_PRESS_CUFF_MEAN, U.MDC_DIM_MMHG, 92, '1.1.9.150303'),
        num(M.MDC_RESP_RATE, U.MDC_DIM_RESP_PER_MIN, 16, '1.7.1.151562'),
        num(M.MDC_TTHOR_RESP_RATE, U.MDC_DIM_RESP_PER_MIN, 17, '1.7.1.151578'),
        num(M.MDC_TEMP, U.MDC_DIM_DEGC, 36.8, '1.13.1.150344'),
        num(M.MDC_TEMP_AXILLA, U.MDC_DIM_DEGC, 36.5, '1.2.5.188452'),
        num(M.MDC_ECG_V_P_C_RATE, U.MDC_DIM_BEAT_PER_MIN, 0, '1.7.2.148066'),
        num(M.MDC_PULS_OXIM_PLETH_RESP_RATE, U.MDC_DIM_RESP_PER_MIN, 16, '1.3.1.151658'),
        num(M.MDC_ECG_CARD_BEAT_RATE, U.MDC_DIM_BEAT_PER_MIN, 72, '1.7.4.147842.1'),
      ],
    }),
  );
}

export function waveformMessage(): Buffer {
  const ecg = Array.from({ length: 500 }, (_, i) =>
    Math.round(800 * Math.exp(-(((i % 400) - 200) ** 2) / 50) + 40 * Math.sin(i / 20)),
  );
  const pleth = Array.from({ length: 125 }, (_, i) => Math.round(2000 + 1500 * Math.sin((2 * Math.PI * i) / 100)));
  const resp = Array.from({ length: 62 }, (_, i) => Math.round(1000 * Math.sin((2 * Math.PI * i) / 250)));
  return Buffer.from(
    encodePcd01({
      controlId: 'BENCHW001',
      timeUs: T,
      utcOffsetMin: 420,
      sender: { name: 'MINDRAY_EGATEWAY', eui64: '00A03700273EDE18' },
      waves: [
        {
          mdc: 131330,
          refid: 'MDC_ECG_ELEC_POTL_II',
          containment: '1.7.6.131330',
          samples: ecg,
          rateHz: 500,
          resolution: 0.001221,
          unitMdc: 266418,
          unitRefid: 'MDC_DIM_MILLI_VOLT',
          invalid: 32767,
        },
        {
          mdc: 150452,
          refid: 'MDC_PULS_OXIM_PLETH',
          containment: '1.3.1.150452',
          samples: pleth,
          rateHz: 125,
          resolution: 1,
          unitMdc: 262656,
          unitRefid: 'MDC_DIM_DIMLESS',
          invalid: 32767,
        },
        {
          mdc: 151780,
          refid: 'MDC_IMPED_TTHOR',
          containment: '1.7.1.151780',
          samples: resp,
          rateHz: 62.5,
          resolution: 1,
          unitMdc: 262656,
          unitRefid: 'MDC_DIM_DIMLESS',
          invalid: 32767,
        },
      ],
    }),
  );
}

function ours(): (buf: Buffer) => number {
  const dec = createHl7Decoder();
  const ctx = { gatewayTimeUs: T, defaultUtcOffsetMin: 420 };
  return (buf) => {
    const r = dec.decode(buf, ctx);
    if (!r.ok) throw new Error(r.error.code);
    return encodeBatch({ observations: r.value.observations, waves: r.value.waves }).length;
  };
}

// Each peer returns what a consumer needs from every OBX: code, refid, numeric value(s), unit.
function simple(): (buf: Buffer) => number {
  const parser = new simpleHl7.Parser();
  return (buf) => {
    const msg = parser.parse(buf.toString('utf8'));
    let acc = 0;
    for (const obx of msg.getSegments('OBX')) {
      const code = Number(obx.getComponent(3, 1));
      const refid = obx.getComponent(3, 2);
      const unit = obx.getComponent(6, 2);
      const type = obx.getField(2);
      if (type === 'NA') for (const s of obx.getField(5).split('^')) acc += Number(s);
      else acc += Number(obx.getField(5));
      acc += code + refid.length + unit.length;
    }
    return acc;
  };
}

function medplum(): (buf: Buffer) => number {
  return (buf) => {
    const msg = Hl7Message.parse(buf.toString('utf8'));
    let acc = 0;
    for (const obx of msg.getAllSegments('OBX')) {
      const code = Number(obx.getComponent(3, 1));
      const refid = obx.getComponent(3, 2);
      const unit = obx.getComponent(6, 2);
      const value = obx.getField(5);
      if (obx.getField(2)?.toString() === 'NA') for (const s of value?.components[0] ?? []) acc += Number(s);
      else acc += Number(value?.toString());
      acc += code + refid.length + unit.length;
    }
    return acc;
  };
}

export const bench: Bench = {
  name: 'hl7',
  description: 'HL7 PCD-01 bytes to protobuf Batch vs simple-hl7 and @medplum/core extracting the same OBX values',
  async run({ quick, log }): Promise<BenchResult[]> {
    const out: BenchResult[] = [];
    for (const [label, msg] of [
      ['numerics', numericsMessage()],
      ['waveform', waveformMessage()],
    ] as const) {
      log(`${label}: ${msg.length} bytes`);
      const oursFn = ours();
      const s = simple();
      const m = medplum();
      const rOurs = measureRate(() => oursFn(msg), ratePreset(quick));
      const rSimple = measureRate(() => s(msg), ratePreset(quick));
      const rMedplum = measureRate(() => m(msg), ratePreset(quick));
      log(
        `${label}: ours ${Math.round(rOurs.median)}/s, simple-hl7 ${Math.round(rSimple.median)}/s, medplum ${Math.round(rMedplum.median)}/s`,
      );
      const metric = label === 'numerics' ? 'msgs_per_s' : 'wave_msgs_per_s';
      out.push(
        figure({
          bench: 'hl7',
          metric,
          value: rOurs.median,
          unit: 'msgs/s',
          peer: 'simple-hl7',
          peerValue: rSimple.median,
        }),
      );
      out.push(
        figure({
          bench: 'hl7',
          metric,
          value: rOurs.median,
          unit: 'msgs/s',
          peer: '@medplum/core',
          peerValue: rMedplum.median,
        }),
      );
      const fastest = Math.max(rSimple.median, rMedplum.median);
      out.push(
        figure({
          bench: 'hl7',
          metric: `${metric}_vs_fastest_peer`,
          value: rOurs.median,
          unit: 'msgs/s',
          peer: rSimple.median >= rMedplum.median ? 'simple-hl7' : '@medplum/core',
          peerValue: fastest,
        }),
      );
      out.push(
        figure({
          bench: 'hl7',
          metric: `${label}_mb_per_s`,
          value: (rOurs.median * msg.length) / 1048576,
          unit: 'MB/s',
        }),
      );
    }
    // Binary serial protocols: frames through the same framer+decoder pipeline as the gateway.
    for (const proto of ['nonin7', 'datex'] as const) {
      const target = ALL_FUZZ_TARGETS.find((t) => t.protocol === proto);
      const p = getProtocol(proto);
      if (!target || !p) throw new Error(`no ${proto}`);
      const rng = createRng(3);
      const stream = Buffer.concat(Array.from({ length: 300 }, () => target.valid(rng)));
      let decoded = 0;
      const pipe = createPipeline(p, {
        decoded: (d) => {
          decoded += d.observations.length + d.waves.length;
        },
        error: () => undefined,
      });
      pipe.push(stream, T);
      if (decoded === 0) throw new Error(`${proto}: bench stream did not decode`);
      const r = measureRate(() => {
        pipe.push(stream, T);
        return decoded;
      }, ratePreset(quick));
      out.push(
        figure({
          bench: 'hl7',
          metric: `${proto}_mb_per_s`,
          value: (r.median * stream.length) / 1048576,
          unit: 'MB/s',
        }),
      );
    }
    return out;
  },
};
