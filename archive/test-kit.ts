// Builders for archive tests and the bench: Batches as a gateway publishes them (encoded with the contract's generated
// code), on their topics. Every patient here is synthetic.
import { streamTopic, type StreamKind } from '../lib/topics.js';
import { Batch, Flag, Kind, type IBatch, type IObservation } from '../proto/index.js';
import { METRICS, UNITS } from '../decoders/mdc.js';
import { toRows } from './rows.js';
import type { BatchRows, WaveRow } from './schema.js';
import { unpackSamples } from './wave-wire.js';

export interface Dev {
  site: string;
  gateway: string;
  device: string;
}

export const KIND_OF: Record<StreamKind, number> = {
  obs: Kind.KIND_OBS,
  wave: Kind.KIND_WAVE,
  alarm: Kind.KIND_ALARM,
  status: Kind.KIND_STATUS,
};

export function encodeBatch(b: IBatch): Buffer {
  return Buffer.from(Batch.encode(Batch.create(b)).finish());
}

export interface Published {
  topic: string;
  payload: Buffer;
}

export function publish(
  d: Dev,
  kind: StreamKind,
  seq: number,
  body: Omit<IBatch, 'source' | 'kind' | 'seq'>,
): Published {
  const payload = encodeBatch({
    source: { site: d.site, gateway: d.gateway, device: d.device, model: 'VS900', protocol: 'hl7' },
    kind: KIND_OF[kind],
    seq,
    ...body,
  });
  return { topic: streamTopic(d.site, d.gateway, d.device, kind), payload };
}

/** The same Batch as a gateway's outbox replays it: its publish tail (backfill, publish time) appended to the bytes. */
export function replayOf(p: Published, publishTimeUs: number): Published {
  const tail = Batch.encode(Batch.create({ backfill: true, publishTimeUs })).finish();
  return { topic: p.topic, payload: Buffer.concat([p.payload, tail]) };
}

export function rowsOf(p: Published, receivedUs = 1): BatchRows {
  const r = toRows(p.topic, p.payload, receivedUs);
  if (!r.ok) throw new Error(r.reason);
  return r.rows;
}

/** A Batch's wave rows as a store reads them back: samples as numbers (written as their packed wire bytes). */
export function waveRowsOf(p: Published): WaveRow[] {
  return rowsOf(p).wave.map((w) => ({ ...w, samples: unpackSamples(w.samples) }));
}

export interface Vitals {
  hr?: number;
  spo2?: number;
  rr?: number;
  temp?: number;
  sys?: number;
  dia?: number;
  mean?: number;
}

/** One numerics Batch of a bedside monitor at gateway time tUs (the device time equals it: a synced clock). */
export function vitalsBatch(d: Dev, seq: number, tUs: number, v: Vitals, flags = 0): Published {
  const time = { gatewayTimeUs: tUs, deviceTimeUs: tUs };
  const obs: IObservation[] = [];
  const add = (
    m: { mdc: number; refid: string },
    u: { mdc: number; ucum: string },
    value: number | undefined,
    vendor: string,
  ) => {
    if (value === undefined) return;
    obs.push({
      time,
      mdc: m.mdc,
      refid: m.refid,
      number: value,
      unit: u.ucum,
      unitMdc: u.mdc,
      vendorCode: vendor,
      vendorUnit: u.ucum,
      flags,
      containment: `1.1.1.${m.mdc}`,
    });
  };
  add(METRICS.MDC_ECG_CARD_BEAT_RATE, UNITS.MDC_DIM_BEAT_PER_MIN, v.hr, '147842^MDC_ECG_CARD_BEAT_RATE^MDC');
  add(METRICS.MDC_PULS_OXIM_SAT_O2, UNITS.MDC_DIM_PERCENT, v.spo2, '150456^MDC_PULS_OXIM_SAT_O2^MDC');
  add(METRICS.MDC_RESP_RATE, UNITS.MDC_DIM_RESP_PER_MIN, v.rr, '151562^MDC_RESP_RATE^MDC');
  add(METRICS.MDC_TEMP, UNITS.MDC_DIM_DEGC, v.temp, '150344^MDC_TEMP^MDC');
  add(METRICS.MDC_PRESS_CUFF_SYS, UNITS.MDC_DIM_MMHG, v.sys, '150301^MDC_PRESS_CUFF_SYS^MDC');
  add(METRICS.MDC_PRESS_CUFF_DIA, UNITS.MDC_DIM_MMHG, v.dia, '150302^MDC_PRESS_CUFF_DIA^MDC');
  add(METRICS.MDC_PRESS_CUFF_MEAN, UNITS.MDC_DIM_MMHG, v.mean, '150303^MDC_PRESS_CUFF_MEAN^MDC');
  return publish(d, 'obs', seq, { observations: obs, publishTimeUs: tUs + 1000 });
}

/** A Batch of each kind with every contract field set, for "nothing is dropped" checks. */
export function fullBatches(
  d: Dev,
  tUs: number,
): { obs: Published; wave: Published; alarm: Published; status: Published } {
  const time = { gatewayTimeUs: tUs, deviceTimeUs: tUs + 2_000_000, clockOffsetUs: 2_000_000, deviceUtcOffsetMin: 420 };
  return {
    obs: publish(d, 'obs', 1, {
      publishTimeUs: tUs + 5000,
      observations: [
        {
          time,
          mdc: 150456,
          refid: 'MDC_PULS_OXIM_SAT_O2',
          number: 97.5,
          unit: '%',
          unitMdc: 262688,
          vendorCode: '150456^MDC_PULS_OXIM_SAT_O2^MDC',
          vendorUnit: '%',
          flags: Flag.FLAG_ABNORMAL | Flag.FLAG_LOW_PERFUSION,
          containment: '1.1.1.150456',
          method: 'PULSE_OX',
          range: '90-100',
          sentNumber: 97.5,
        },
        {
          time,
          mdc: 184327,
          refid: 'MDC_ECG_STAT_RHY',
          code: { mdc: 196800, refid: 'MDC_ECG_SINUS_RHY', text: 'Sinus rhythm' },
          vendorCode: 'RHY',
          flags: 0,
        },
        { time, mdc: 0, refid: '', text: 'lead II', vendorCode: 'VND_LEAD', flags: Flag.FLAG_UNMAPPED },
        {
          time,
          mdc: 147842,
          refid: 'MDC_ECG_CARD_BEAT_RATE',
          unit: '/min',
          unitMdc: 264864,
          flags: Flag.FLAG_UNAVAILABLE | Flag.FLAG_SENSOR_OFF,
        },
      ],
    }),
    wave: publish(d, 'wave', 1, {
      publishTimeUs: tUs + 5000,
      waves: [
        {
          time,
          mdc: 131330,
          refid: 'MDC_ECG_ELEC_POTL_II',
          sampleRateHz: 250,
          firstSample: 5_000_000_000,
          samples: [0, 1, -1, 32767, -32768, 12],
          scale: 0.001221,
          offset: -0.5,
          unit: 'mV',
          invalidValue: 32767,
          vendorCode: '131330^MDC_ECG_ELEC_POTL_II^MDC',
          flags: Flag.FLAG_ARTIFACT,
        },
      ],
    }),
    alarm: publish(d, 'alarm', 1, {
      publishTimeUs: tUs + 5000,
      alarms: [
        {
          time,
          id: 'A-17',
          mdc: 196674,
          refid: 'MDC_EVT_HI',
          text: 'HR HIGH',
          priority: 4,
          kind: 1,
          state: 2,
          phase: 1,
          inactivation: 2,
          sourceMdc: 147842,
          sourceRefid: 'MDC_ECG_CARD_BEAT_RATE',
          vendorCode: 'HR_HI',
          flags: Flag.FLAG_ABNORMAL,
          sourceValue: 151,
          sourceUnit: '/min',
          limitLow: 50,
          limitHigh: 120,
          limits: '50-120',
          sourceContainment: '1.1.1.147842',
          facets: [
            { mdc: 68480, refid: 'MDC_ATTR_ALARM_SOURCE', value: 'x^y', unit: '', containment: '1.1.1.147842.1' },
          ],
        },
      ],
    }),
    status: publish(d, 'status', 1, {
      publishTimeUs: tUs + 5000,
      statuses: [
        {
          time,
          state: 3,
          reason: 'VW_ERR_LINK_CLOSED',
          framesOk: 1234,
          framesBad: 5,
          garbageBytes: 77,
          unmapped: 2,
          reconnects: 3,
          queueDepth: 9,
          clockSynced: true,
          lastFrameTimeUs: tUs - 1000,
          diagnosis: 'no bytes',
          session: 'requested',
        },
      ],
      gaps: [
        {
          kind: Kind.KIND_OBS,
          fromSeq: 10,
          toSeq: 12,
          waveMdc: 0,
          fromSample: 0,
          sampleCount: 0,
          fromTimeUs: tUs - 60_000_000,
          toTimeUs: tUs - 1_000_000,
          reason: 1,
        },
      ],
    }),
  };
}
