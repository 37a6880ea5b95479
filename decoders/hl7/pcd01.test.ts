import { describe, expect, it } from 'vitest';
import { Flag } from '../../proto/index.js';
import { createHl7Decoder } from './decoder.js';

import { buildPcd01 } from '../../simulators/hl7-monitor.js';

const ctx = { gatewayTimeUs: 1_700_000_000_000_000 };
const decodePcd01Minimal = (b: Buffer, c: typeof ctx) => createHl7Decoder().decode(b, c);

// Written by hand from IHE PCD TF-2 (PCD-01 OBX layout) and the MDC tables in
// ../shared/protocols.md: SpO2 = 150456 MDC_PULS_OXIM_SAT_O2 in % (262688 MDC_DIM_PERCENT),
// HR = 147842 in /min (264864 MDC_DIM_BEAT_PER_MIN); OBX-8 DEMO marks demo data.
const handWritten = [
  'MSH|^~\\&|MON^0123456789ABCDEF^EUI-64|HOSP|||20261123080000+0700||ORU^R01^ORU_R01|C42|P|2.6',
  'PV1||I|ICU^^7',
  'OBX|1|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.1.1.150456|97|262688^MDC_DIM_PERCENT^MDC||DEMO|||R|||20261123075959+0700',
  'OBX|2|NM|147842^MDC_ECG_CARD_BEAT_RATE^MDC|1.2.1.147842|61.5|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||R',
  'OBX|3|NM|999^VENDOR_THING^99X|1.2.1.999|3|mmol|||||R',
  'OBX|4|NM|151562^MDC_RESP_RATE^MDC|1.3.1.151562|n/a|264928^MDC_DIM_RESP_PER_MIN^MDC|||||R',
].join('\r');

describe('PCD-01 decoder', () => {
  it('decodes the hand-written message to MDC codes and UCUM units', () => {
    const r = decodePcd01Minimal(Buffer.from(handWritten), ctx);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const v = r.value;
    expect(v.device).toBe('0123456789ABCDEF');
    expect(v.bed).toBe('ICU-7');
    expect(v.controlId).toBe('C42');
    const [spo2, hr, unmapped] = v.observations;
    expect(spo2).toMatchObject({
      mdc: 150456,
      refid: 'MDC_PULS_OXIM_SAT_O2',
      number: 97,
      unit: '%',
      unitMdc: 262688,
      flags: Flag.FLAG_DEMO,
    });
    // OBX-14 07:59:59 at +07:00 = 00:59:59 UTC.
    expect(spo2?.time?.deviceTimeUs).toBe(Date.UTC(2026, 10, 23, 0, 59, 59) * 1000);
    expect(spo2?.time?.gatewayTimeUs).toBe(ctx.gatewayTimeUs);
    expect(hr).toMatchObject({ mdc: 147842, number: 61.5, unit: '/min', flags: 0 });
    // No OBX-14: MSH-7 08:00:00 +07:00.
    expect(hr?.time?.deviceTimeUs).toBe(Date.UTC(2026, 10, 23, 1, 0, 0) * 1000);
    // A local code is not guessed at; its unit is valid UCUM (millimole, UCUM §4.3) and kept as sent.
    expect(unmapped).toMatchObject({
      mdc: 0,
      refid: '',
      vendorCode: '999^VENDOR_THING^99X',
      unit: 'mmol',
      vendorUnit: 'mmol',
      flags: Flag.FLAG_UNMAPPED,
    });
    expect(v.observations).toHaveLength(3);
    expect(v.warnings.map((w) => w.code)).toEqual(['VW_ERR_HL7_BAD_VALUE']);
  });

  it('decodes what the simulator sends', () => {
    const msg = buildPcd01(
      { eui64: '02565700000000AA', model: 'SIM', bed: 'Bed 3' },
      { hr: 72, spo2: 98, rr: 14, pulse: 71 },
      {
        controlId: 'X1',
        timeUs: Date.UTC(2026, 0, 2, 3, 4, 5, 678) * 1000,
        utcOffsetMin: 420,
      },
    );
    const r = decodePcd01Minimal(Buffer.from(msg), ctx);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.device).toBe('02565700000000AA');
    expect(r.value.observations.map((o) => [o.refid, o.number, o.unit])).toEqual([
      ['MDC_ECG_CARD_BEAT_RATE', 72, '/min'],
      ['MDC_PULS_OXIM_SAT_O2', 98, '%'],
      ['MDC_PULS_OXIM_PULS_RATE', 71, '/min'],
      ['MDC_RESP_RATE', 14, '/min'],
    ]);
    expect(r.value.observations[0]?.time?.deviceTimeUs).toBe(Date.UTC(2026, 0, 2, 3, 4, 5, 678) * 1000);
  });

  it('rejects non-HL7 and unsupported messages with coded errors', () => {
    const bad = (s: string) => {
      const r = decodePcd01Minimal(Buffer.from(s), ctx);
      return r.ok ? 'ok' : r.error.code;
    };
    expect(bad('hello')).toBe('VW_ERR_HL7_NO_MSH');
    expect(bad('')).toBe('VW_ERR_HL7_NO_MSH');
    expect(bad('MSH||||||||')).toBe('VW_ERR_HL7_BAD_ENCODING_CHARS');
    expect(bad('MSH|^~\\&|A||||20260101||ADT^A01|1|P|2.6')).toBe('VW_ERR_HL7_UNSUPPORTED_MESSAGE');
  });
});

describe('PCD-01 waveform arrays', () => {
  const wave = (values: string) =>
    createHl7Decoder().decode(
      Buffer.from(
        [
          'MSH|^~\\&|M^0123456789ABCDEF^EUI-64||||20260101000000+0000||ORU^R01|W|P|2.6',
          `OBX|1|NA|131330^MDC_ECG_ELEC_POTL_II^MDC|1.1.1.131330|${values}|266418^MDC_DIM_MILLI_VOLT^MDC|||||R`,
          'OBX|2|NM|0^MDC_ATTR_SAMP_RATE^MDC|1.1.1.131330.1|500|264608^MDC_DIM_PER_SEC^MDC|||||R',
        ].join('\r'),
      ),
      ctx,
    );

  it('reads integers, negatives and decimals (brought to one decimal scale)', () => {
    const ints = wave('1^-2^30000');
    expect(ints.ok && ints.value.waves[0]?.samples).toEqual([1, -2, 30000]);
    const dec = wave('0.12^-1.5^3');
    expect(dec.ok && dec.value.waves[0]?.samples).toEqual([12, -150, 300]);
    expect(dec.ok && dec.value.waves[0]?.scale).toBeCloseTo(0.01, 12);
  });

  it('reads arrays whose length changes from message to message on one link, and "-0" as 0', () => {
    // The fast path makes each row's array as long as it was in the previous message.
    const dec = createHl7Decoder();
    const msg = (values: string) =>
      Buffer.from(
        [
          'MSH|^~\\&|M^0123456789ABCDEF^EUI-64||||20260101000000+0000||ORU^R01|W|P|2.6',
          `OBX|1|NA|131330^MDC_ECG_ELEC_POTL_II^MDC|1.1.1.131330|${values}|266418^MDC_DIM_MILLI_VOLT^MDC|||||R`,
        ].join('\r'),
      );
    for (const arr of [[1, 2, 3], [4, 5, 6, 7, 8], [9], [-0, 10, -11], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]]) {
      const r = dec.decode(msg(arr.map((v) => (Object.is(v, -0) ? '-0' : String(v))).join('^')), ctx);
      const samples = r.ok ? r.value.waves[0]?.samples : undefined;
      expect(samples).toEqual(arr.map((v) => v + 0));
      expect(samples?.some((v) => Object.is(v, -0))).toBe(false);
    }
  });

  it('rejects empty samples, a trailing separator, a cut sign and text, with a coded warning', () => {
    for (const bad of ['1^^3', '1^2^', '- 5^1', '1^x^3', '']) {
      const r = wave(bad);
      expect(r.ok, bad).toBe(true);
      if (!r.ok) continue;
      expect(r.value.waves, bad).toEqual([]);
      expect(
        r.value.warnings.map((w) => w.code),
        bad,
      ).toEqual(['VW_ERR_HL7_BAD_VALUE']);
    }
  });
});
