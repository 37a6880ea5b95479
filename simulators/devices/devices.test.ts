// Every simulated protocol through the gateway's real framer and decoder (the registry's): what each simulator says
// it sent (its ground truth: codes, units, values, sample indices) is what the decoder reads back, frame by frame.
// The truth's codes and units are stated by the simulators from the protocol documents (docs/nomenclature.md), not
// taken from the decoder's output.
import { describe, expect, it } from 'vitest';
import type { Decoded } from '../../decoders/decoded.js';
import { encodePhdbRequestFrame } from '../../decoders/datex/session.js';
import { getProtocol } from '../../decoders/registry.js';
import { AlarmPhase, Flag } from '../../proto/index.js';
import { createBed } from '../bed.js';
import type { Truth } from '../ground-truth.js';
import { createSimDevice, SIM_PROTOCOLS, type Quirks, type SimDevice, type SimProtocol } from './index.js';
import { matchObs, matchWave } from './truth-match.js';

const T0 = Date.UTC(2026, 2, 1, 8, 0, 0) * 1000;

function run(
  protocol: SimProtocol,
  seconds: number,
  quirks: Quirks = {},
  setup?: (d: SimDevice) => void,
): { decoded: Decoded[]; truth: Truth[][]; device: SimDevice } {
  const bed = createBed(3, 11, T0);
  const device = createSimDevice(protocol, { id: 'dev', bed, bedNo: 3, seed: 11, quirks, utcOffsetMin: 0 });
  setup?.(device);
  const p = getProtocol(protocol)!;
  const framer = p.createFramer();
  const decoder = p.createDecoder();
  const decoded: Decoded[] = [];
  const truth: Truth[][] = [];
  for (let us = T0; us <= T0 + seconds * 1e6; us += 50_000) {
    bed.advanceTo(us);
    for (const e of device.emit(us)) {
      const got: Decoded[] = [];
      framer.push(e.bytes, {
        frame: (f) => {
          const r = decoder.decode(f, { gatewayTimeUs: us, defaultUtcOffsetMin: 0 });
          if (!r.ok) throw new Error(`${protocol}: ${r.error.code} ${r.error.detail}`);
          got.push(r.value);
        },
        error: (code, detail) => {
          throw new Error(`${protocol}: ${code} ${detail}`);
        },
      });
      if (e.truth.length === 0) continue; // banners, LINK lines: no values
      expect(got, `${protocol} frame ${e.frame}`).toHaveLength(1);
      decoded.push(got[0]!);
      truth.push(e.truth);
    }
  }
  return { decoded, truth, device };
}

function compare(decoded: Decoded[], truth: Truth[][]): string[] {
  const problems: string[] = [];
  const base = new Map<string, number>();
  decoded.forEach((d, i) => {
    for (const t of truth[i] ?? []) {
      if (t.t === 'obs') problems.push(matchObs(t, d.observations));
      else if (t.t === 'wave') {
        if (!base.has(t.code))
          base.set(t.code, t.first - Number(d.waves.find((w) => w.refid === t.code)?.firstSample ?? 0));
        problems.push(matchWave(t, d.waves, base.get(t.code)));
      } else if (t.t === 'alarm') {
        const a = d.alarms.find((x) => x.refid === t.code);
        const phase = t.phase === 'start' ? AlarmPhase.ALARM_PHASE_START : AlarmPhase.ALARM_PHASE_END;
        problems.push(!a ? `alarm ${t.code} missing` : a.phase !== phase ? `alarm ${t.code} phase ${a.phase}` : '');
      }
    }
  });
  return problems.filter((p) => p !== '');
}

const request = encodePhdbRequestFrame({ recordType: 1, intervalS: 5, classBits: 0, driLevel: 0 });

describe('each simulated protocol decodes to its ground truth', () => {
  for (const protocol of SIM_PROTOCOLS) {
    it(protocol, () => {
      const { decoded, truth } = run(
        protocol,
        130,
        {},
        protocol === 'datex' ? (d) => d.receive?.(request, T0) : undefined,
      );
      expect(decoded.length).toBeGreaterThan(protocol === 'datex' ? 20 : 100);
      expect(compare(decoded, truth)).toEqual([]);
      const n = truth.flat().filter((t) => t.t === 'obs').length;
      expect(n).toBeGreaterThan(50);
    });
  }

  it('with vendor quirks: missing values, a private code, MDIL codes, and as-real HL7', () => {
    for (const protocol of SIM_PROTOCOLS) {
      const { decoded, truth } = run(
        protocol,
        40,
        { missingEvery: 3 },
        protocol === 'datex' ? (d) => d.receive?.(request, T0) : undefined,
      );
      expect(
        truth.flat().some((t) => t.t === 'obs' && t.value === null),
        protocol,
      ).toBe(true);
      expect(compare(decoded, truth), protocol).toEqual([]);
      for (const d of decoded)
        for (const o of d.observations)
          if (valueOfNull(o))
            expect((o.flags ?? 0) & Flag.FLAG_UNAVAILABLE, `${protocol} ${JSON.stringify(o)}`).toBe(
              Flag.FLAG_UNAVAILABLE,
            );
    }
    const local = run('hl7', 5, { localCodes: true });
    expect(compare(local.decoded, local.truth)).toEqual([]);
    const st = local.decoded.flatMap((d) => d.observations).find((o) => o.vendorCode === 'ST-II^ST II^99MNDRY');
    expect((st?.flags ?? 0) & Flag.FLAG_UNMAPPED).toBe(Flag.FLAG_UNMAPPED);
    const mdil = run('hl7', 5, { mdil: true });
    expect(compare(mdil.decoded, mdil.truth)).toEqual([]);
    const real = run('hl7', 3, { asReal: true });
    for (const d of real.decoded)
      for (const o of d.observations) expect((o.flags ?? 0) & (Flag.FLAG_DEMO | Flag.FLAG_TEST)).toBe(0);
    const marked = run('hl7', 3);
    for (const d of marked.decoded)
      for (const o of d.observations) expect((o.flags ?? 0) & Flag.FLAG_TEST).toBe(Flag.FLAG_TEST);
  });

  it('a Datex S/5 is silent until requested, stops on a stop request, and forgets the request when power-cycled', () => {
    const bed = createBed(1, 5, T0);
    const d = createSimDevice('datex', { id: 'dx', bed, bedNo: 1, seed: 5 });
    const sent = (from: number, to: number) => {
      let n = 0;
      for (let us = from; ; us = Math.min(to, us + 100_000)) {
        bed.advanceTo(us);
        n += d.emit(us).length;
        if (us === to) break;
      }
      return n;
    };
    expect(sent(T0, T0 + 30e6)).toBe(0);
    d.receive?.(request, T0 + 30e6);
    expect(sent(T0 + 30e6 + 1, T0 + 60e6)).toBe(6); // every 5 s
    d.receive?.(encodePhdbRequestFrame({ recordType: 1, intervalS: 0, classBits: 0, driLevel: 0 }), T0 + 60e6);
    expect(sent(T0 + 60e6 + 1, T0 + 80e6)).toBe(0);
    d.receive?.(request, T0 + 80e6);
    expect(sent(T0 + 80e6 + 1, T0 + 90e6)).toBe(2);
    d.powerCycle?.();
    expect(sent(T0 + 90e6 + 1, T0 + 120e6)).toBe(0);
  });
});

function valueOfNull(o: { number?: number | null }): boolean {
  return o.number === undefined || o.number === null;
}
