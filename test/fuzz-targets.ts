// Valid-frame generators for the fuzz harness, one per protocol, each written with that
// protocol's own encoder, plus a canary (always decodes) and a separator (ends any partial
// frame the garbage left).
import type { Rng } from '../simulators/prng.js';
import { createRng } from '../simulators/prng.js';
import { encodePcd01 } from '../decoders/hl7/encode.js';
import { mllpWrap } from '../decoders/framing/mllp.js';
import { encodeNonin7Packet, encodeNonin8Frame } from '../decoders/nonin/encode.js';
import { encodeMasimoLine } from '../decoders/masimo/encode.js';
import { bridgeLine, encodeHeartRate, encodePlxContinuous } from '../decoders/ble/encode.js';
import { encodePhdbFrame } from '../decoders/datex/encode.js';
import type { FuzzTarget } from './fuzz-harness.js';

const int = (rng: Rng, lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo));

function hl7(rng: Rng): Buffer {
  return mllpWrap(
    encodePcd01({
      controlId: `F${int(rng, 0, 1e6)}`,
      timeUs: 1_700_000_000_000_000 + Math.floor(rng() * 1e12),
      device: { eui64: '0256570000000001', model: 'FUZZ' },
      numerics: [
        {
          mdc: 150456,
          refid: 'MDC_PULS_OXIM_SAT_O2',
          value: int(rng, 0, 100),
          unitMdc: 262688,
          unitRefid: 'MDC_DIM_PERCENT',
        },
      ],
      waves:
        rng() < 0.3
          ? [
              {
                mdc: 131330,
                refid: 'MDC_ECG_ELEC_POTL_II',
                containment: '1.1.1.131330',
                samples: Array.from({ length: 50 }, () => int(rng, -1000, 1000)),
                rateHz: 500,
                resolution: 0.001221,
                unitMdc: 266418,
                unitRefid: 'MDC_DIM_MILLI_VOLT',
              },
            ]
          : [],
    }),
  );
}

let timer = 0;
function nonin7(rng: Rng): Buffer {
  const n = () => (rng() < 0.1 ? null : int(rng, 40, 100));
  return encodeNonin7Packet({
    hr: n(),
    spo2: n(),
    spo2D: n(),
    spo2Fast: n(),
    spo2BB: n(),
    eHr: n(),
    eSpo2: n(),
    eSpo2D: n(),
    hrD: n(),
    eHrD: n(),
    pleth: Array.from({ length: 25 }, () => int(rng, 0, 65536)),
    timer: timer++ & 0x3fff,
  });
}

function nonin8(rng: Rng): Buffer {
  return encodeNonin8Frame({
    hr: rng() < 0.1 ? null : int(rng, 30, 250),
    spo2: rng() < 0.1 ? null : int(rng, 50, 100),
  });
}

function masimo(rng: Rng): Buffer {
  const n = (lo: number, hi: number) => (rng() < 0.1 ? null : int(rng, lo, hi));
  return Buffer.from(
    `${encodeMasimoLine({
      time: {
        year: 2026,
        month: int(rng, 1, 13),
        day: int(rng, 1, 29),
        hour: int(rng, 0, 24),
        minute: int(rng, 0, 60),
        second: int(rng, 0, 60),
      },
      sn: '0000123',
      spo2: n(70, 100),
      bpm: n(30, 200),
      pi: n(0, 20),
      spco: n(0, 40),
      spmet: n(0, 15),
      desat: n(0, 99),
      pidelta: n(-99, 99),
      pvi: n(0, 99),
      alarm: 0,
      exc: 0,
    })}\r\n`,
  );
}

function ble(rng: Rng): Buffer {
  const addr = 'C0:FF:EE:00:00:01';
  const payload =
    rng() < 0.5
      ? encodeHeartRate({ bpm: int(rng, 30, 220), rr1024: [int(rng, 300, 1500)] })
      : encodePlxContinuous({ spo2: int(rng, 80, 100), pulseRate: int(rng, 40, 180) });
  const chr = payload.length > 0 && rng() < 0.5 ? 0x2a37 : 0x2a5f;
  return Buffer.from(
    `${bridgeLine(addr, chr === 0x2a37 ? 0x180d : 0x1822, chr, chr === 0x2a37 ? encodeHeartRate({ bpm: int(rng, 30, 220) }) : payload)}\n`,
  );
}

function datex(rng: Rng): Buffer {
  return encodePhdbFrame({
    time: 1_780_000_000 + int(rng, 0, 1e6),
    recordNumber: int(rng, 0, 256),
    subrecords: [
      {
        basic: {
          ecg: { hr: int(rng, 30, 200), impRr: int(rng, 5, 40) },
          p: [{ label: int(rng, 0, 23), sys: int(rng, 80, 180), dia: int(rng, 40, 100), mean: int(rng, 60, 120) }],
          nibp:
            rng() < 0.2
              ? { sys: 'not-updated' }
              : { sys: int(rng, 80, 180), dia: int(rng, 40, 100), mean: int(rng, 60, 120) },
          t: [{ label: int(rng, 0, 17), temp: int(rng, 3400, 4000) / 100 }],
          spo2: { spo2: int(rng, 8000, 10000) / 100, pr: int(rng, 30, 200) },
          co2: { et: int(rng, 0, 800) / 100, fi: int(rng, 0, 100) / 100, rr: int(rng, 5, 40) },
        },
      },
    ],
  });
}

const r = createRng(7);
export const ALL_FUZZ_TARGETS: FuzzTarget[] = [
  { protocol: 'hl7', valid: hl7, canary: hl7(r), separator: Buffer.from([0x1c, 0x0d]) },
  // Nonin 7: a full packet after garbage; resync needs SYNC + checksum, so two packets make a canary.
  {
    protocol: 'nonin7',
    valid: nonin7,
    canary: Buffer.concat([nonin7(r), nonin7(r), nonin7(r)]),
    separator: Buffer.alloc(0),
  },
  { protocol: 'nonin8', valid: nonin8, canary: Buffer.concat([nonin8(r), nonin8(r)]), separator: Buffer.alloc(0) },
  { protocol: 'masimo', valid: masimo, canary: masimo(r), separator: Buffer.from('\r\n') },
  { protocol: 'ble-bridge', valid: ble, canary: ble(r), separator: Buffer.from('\n') },
  {
    protocol: 'datex',
    valid: datex,
    canary: encodePhdbFrame({ time: 1_780_000_000, subrecords: [{ basic: { ecg: { hr: 60 } } }] }),
    separator: Buffer.from([0x7e]),
  },
];
