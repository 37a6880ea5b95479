// The batcher's limit is exact (issue 14): a batch's encoded items never exceed maxBatchBytes, whatever the items hold;
// a waveform chunk over it is split losslessly; a text over it is cut at a character boundary and flagged, the whole
// item kept aside; an item nothing can be cut from goes alone. Sizes are checked against the encoder's own output.
import { describe, expect, it } from 'vitest';
import type { StreamKind } from '../lib/topics.js';
import { encodeBatch } from '../proto/encode-batch.js';
import { Batch, Flag, type IObservation, type IWaveformChunk } from '../proto/index.js';
import { DeviceBatcher } from './batcher.js';
import type { BatchBody } from './outbox/outbox.js';

interface Stored {
  kind: StreamKind;
  body: BatchBody;
  setAside: boolean;
}

function batcher(maxBatchBytes: number) {
  const stored: Stored[] = [];
  const b = new DeviceBatcher(
    { obsMs: 60_000, waveMs: 60_000, alarmMs: 0, maxBatchBytes },
    async (kind, body, _f, _t, _r, setAside) => {
      stored.push({ kind, body, setAside: setAside === true });
    },
    (err) => {
      throw err;
    },
  );
  return { b, stored };
}

/** Bytes of the body's items, encoded: the whole Batch minus the Batch without items. */
const itemsBytes = (body: BatchBody) => encodeBatch(body).length;

const T = Date.UTC(2026, 5, 1, 8) * 1000;
/** An observation as the HL7 decoder makes it from an NM row (about 150 bytes encoded). */
const hr = (v: number): IObservation => ({
  time: { gatewayTimeUs: T, deviceTimeUs: T - 60e6 * v, clockOffsetUs: -1200, deviceUtcOffsetMin: 420 },
  mdc: 147842,
  refid: 'MDC_ECG_CARD_BEAT_RATE',
  number: v,
  unit: '/min',
  unitMdc: 264864,
  vendorCode: '147842^MDC_ECG_CARD_BEAT_RATE^MDC',
  vendorUnit: '264864^MDC_DIM_BEAT_PER_MIN^MDC',
  containment: '1.1.1.147842',
  range: '50-120',
});

describe('batcher: exact sizes', () => {
  it('closes a batch before the next item would take it past maxBatchBytes: a 2,500-row trend dump is several batches', async () => {
    const max = 128 * 1024;
    const { b, stored } = batcher(max);
    const rows = Array.from({ length: 2500 }, (_, i) => hr(1000 + i));
    expect(itemsBytes({ observations: rows })).toBeGreaterThan(256 * 1024); // ~154 B a row, as issue 14 measured
    b.add('obs', rows, T);
    await b.commit();
    expect(stored.length).toBeGreaterThan(2);
    for (const [i, s] of stored.entries()) {
      const bytes = itemsBytes(s.body);
      expect(bytes).toBeLessThanOrEqual(max);
      // Tight: the first row of the next batch would not have fitted.
      const next = stored[i + 1]?.body.observations?.[0];
      if (next) expect(bytes + itemsBytes({ observations: [next] })).toBeGreaterThan(max);
    }
    expect(stored.flatMap((s) => s.body.observations ?? []).map((o) => o.number)).toEqual(rows.map((o) => o.number));
  });

  it('counts text: observations with long texts close batches as their bytes say', async () => {
    const max = 4096;
    const { b, stored } = batcher(max);
    const notes = Array.from({ length: 20 }, (_, i) => ({ ...hr(i), text: `Note ${i}: ${'lorem ipsum '.repeat(50)}` }));
    b.add('obs', notes, T);
    await b.commit();
    for (const s of stored) expect(itemsBytes(s.body)).toBeLessThanOrEqual(max);
    expect(stored.flatMap((s) => s.body.observations ?? [])).toHaveLength(20);
  });
});

describe('batcher: items over the limit', () => {
  it('splits a waveform chunk into contiguous chunks under the limit, each timed at its first sample', async () => {
    const max = 16 * 1024;
    const { b, stored } = batcher(max);
    // Mostly one-byte samples with runs of five-byte ones, so the average misleads and pieces must shrink to fit.
    const samples = Array.from({ length: 60_000 }, (_, i) => (i % 5000 < 300 ? 1_000_000_000 - i : (i % 13) - 6));
    const w: IWaveformChunk = {
      time: { gatewayTimeUs: T, deviceTimeUs: T - 120e6, clockOffsetUs: 5000 },
      mdc: 131330,
      refid: 'MDC_ECG_ELEC_POTL_II',
      sampleRateHz: 500,
      firstSample: 7000,
      samples,
      scale: 0.001,
      unit: 'mV',
      flags: Flag.FLAG_SIMULATED,
    };
    b.add('wave', [w], T);
    await b.commit();
    const pieces = stored.flatMap((s) => s.body.waves ?? []);
    expect(pieces.length).toBeGreaterThan(4);
    expect(b.counters.split).toBe(1);
    let next = 7000;
    for (const [i, s] of stored.entries()) {
      expect(itemsBytes(s.body)).toBeLessThanOrEqual(max);
      // Through the real decoder: what a consumer reads.
      const d = Batch.decode(encodeBatch({ ...s.body, seq: i + 1 }));
      for (const p of d.waves) {
        expect(Number(p.firstSample)).toBe(next);
        expect(Number(p.time?.deviceTimeUs)).toBe(T - 120e6 + Math.round(((next - 7000) / 500) * 1e6));
        expect([p.mdc, p.sampleRateHz, p.scale, p.unit, p.flags, Number(p.time?.clockOffsetUs)]).toEqual([
          131330,
          500,
          0.001,
          'mV',
          Flag.FLAG_SIMULATED,
          5000,
        ]);
        next += p.samples?.length ?? 0;
      }
    }
    expect(pieces.flatMap((p) => p.samples ?? [])).toEqual(samples);
    expect(w.samples).toHaveLength(60_000); // the decoded chunk itself is not changed
  });

  it('cuts a text at a character boundary, flags it questionable and sets the whole item aside', async () => {
    const max = 8 * 1024;
    const { b, stored } = batcher(max);
    // Vietnamese: many characters take 2 or 3 bytes in UTF-8, so a cut by bytes can fall inside one.
    const text = 'Nhịp xoang, ngoại tâm thu thất thưa. '.repeat(2000);
    const note: IObservation = { ...hr(1), text, flags: Flag.FLAG_UNMAPPED };
    b.add('obs', [hr(0), note, hr(2)], T);
    await b.commit();
    const published = stored.filter((s) => !s.setAside);
    const aside = stored.filter((s) => s.setAside);
    for (const s of published) expect(itemsBytes(s.body)).toBeLessThanOrEqual(max);
    const cut = published.flatMap((s) => s.body.observations ?? []).find((o) => o.text);
    expect(cut?.text?.length).toBeGreaterThan(1000);
    expect(text.startsWith(cut?.text ?? 'x')).toBe(true);
    expect(cut?.text).not.toContain('\ufffd');
    expect(cut?.flags).toBe(Flag.FLAG_UNMAPPED | Flag.FLAG_QUESTIONABLE);
    expect(published.flatMap((s) => s.body.observations ?? []).map((o) => o.number)).toEqual([0, 1, 2]);
    expect(aside).toHaveLength(1);
    expect(aside[0]?.body.observations?.[0]?.text).toBe(text);
    expect(note.flags).toBe(Flag.FLAG_UNMAPPED); // the original is not changed
    expect(b.counters.truncated).toBe(1);
  });

  it('hands an item nothing can be cut from on alone, between the batches of its neighbours', async () => {
    const max = 8 * 1024;
    const { b, stored } = batcher(max);
    const odd: IObservation = { ...hr(1), vendorCode: `99999^${'X'.repeat(20_000)}^99VND` };
    b.add('obs', [hr(0), odd, hr(2)], T);
    await b.commit();
    expect(stored.map((s) => (s.body.observations ?? []).map((o) => o.number))).toEqual([[0], [1], [2]]);
    expect(stored[1]?.body.observations?.[0]).toBe(odd);
    expect(b.counters.whole).toBe(1);
  });
});
