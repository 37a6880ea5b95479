// Waveform windows (IHE PCD TF-2 WCM): OBR-7/OBR-8 give the window a NA array covers. A sender
// without a sample-rate row implies rate = samples / window; consecutive windows must abut, and
// a window that starts after the previous one ended is a hole in the device's own stream.
import { describe, expect, it } from 'vitest';
import { Flag, GapReason, Kind } from '../../proto/index.js';
import { createHl7Decoder } from './decoder.js';
import { CTX, decode, message } from './test-messages.js';

const ecg = (n: number) => Array.from({ length: n }, (_, i) => i % 7).join('^');
const win = (start: string, end: string) =>
  `OBR|1||9^MON^0123456789ABCDEF^EUI-64|69121^MDC_OBS_WAVE_CTS^MDC|||${start}|${end}`;
const row = (n: number) =>
  `OBX|1|NA|131330^MDC_ECG_ELEC_POTL_II^MDC|1.7.6.131330|${ecg(n)}|266418^MDC_DIM_MILLI_VOLT^MDC|||||R`;

describe('waveform windows', () => {
  it('no sample-rate row: the rate is derived from the window (250 samples in 0.5 s = 500 Hz), flagged derived', () => {
    const d = decode(message([row(250)], { obr: win('20260301100000.000+0700', '20260301100000.500+0700') }));
    expect(d.waves[0]).toMatchObject({ sampleRateHz: 500, firstSample: 0 });
    expect(d.waves[0]?.flags).toBe(Flag.FLAG_DERIVED);
  });

  it('a missing window becomes a Gap of the skipped samples, and the index jumps by them', () => {
    const dec = createHl7Decoder();
    const first = decode(message([row(250)], { obr: win('20260301100000.000+0700', '20260301100000.500+0700') }), dec);
    expect(first.gaps ?? []).toEqual([]);
    // The window 10:00:00.500-10:00:01.000 never arrives.
    const third = decode(message([row(250)], { obr: win('20260301100001.000+0700', '20260301100001.500+0700') }), dec);
    expect(third.waves[0]).toMatchObject({ firstSample: 500, sampleRateHz: 500 });
    expect(third.gaps).toEqual([
      {
        kind: Kind.KIND_WAVE,
        waveMdc: 131330,
        fromSample: 250,
        sampleCount: 250,
        reason: GapReason.GAP_REASON_DEVICE_SKIPPED,
        // Gateway clock, taking the receive time as the end of the arriving window: 1 s and 0.5 s before it.
        fromTimeUs: CTX.gatewayTimeUs - 1_000_000,
        toTimeUs: CTX.gatewayTimeUs - 500_000,
      },
    ]);
  });

  it('abutting windows give no Gap; a stated rate row still wins over the window', () => {
    const dec = createHl7Decoder();
    const rate = 'OBX|2|NM|0^MDC_ATTR_SAMP_RATE^MDC|1.7.6.131330.1|500|264640^MDC_DIM_HZ^MDC|||||R';
    decode(message([row(250), rate], { obr: win('20260301100000.000+0700', '20260301100000.500+0700') }), dec);
    const next = decode(
      message([row(250), rate], { obr: win('20260301100000.500+0700', '20260301100001.000+0700') }),
      dec,
    );
    expect(next.gaps ?? []).toEqual([]);
    expect(next.waves[0]).toMatchObject({ firstSample: 250, sampleRateHz: 500, flags: 0 });
  });

  it('OBX-11 X on an array: no samples, flagged unavailable, and the next window reports the hole', () => {
    const dec = createHl7Decoder();
    decode(message([row(250)], { obr: win('20260301100000.000+0700', '20260301100000.500+0700') }), dec);
    const bad = decode(
      message([row(250).replace('|||||R', '|||||X')], {
        obr: win('20260301100000.500+0700', '20260301100001.000+0700'),
      }),
      dec,
    );
    expect(bad.waves[0]).toMatchObject({ samples: [], flags: Flag.FLAG_UNAVAILABLE });
    const after = decode(message([row(250)], { obr: win('20260301100001.000+0700', '20260301100001.500+0700') }), dec);
    expect(after.gaps?.[0]).toMatchObject({ fromSample: 250, sampleCount: 250 });
    expect(after.waves[0]).toMatchObject({ firstSample: 500 });
  });
});
