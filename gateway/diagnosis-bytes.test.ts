// What the diagnosis may claim from bytes that made no frame, and what it must not: every protocol's stream is
// recognised as itself and as nothing else; random bytes are recognised as nothing; bytes read at a wrong rate name
// the sender's rate only when the sender was slower (the only case that leaves a pattern).
import { describe, expect, it } from 'vitest';
import { bridgeLine, encodeHeartRate, encodePlxContinuous } from '../decoders/ble/encode.js';
import { protocolIds } from '../decoders/registry.js';
import { createRng } from '../simulators/prng.js';
import { ALL_FUZZ_TARGETS } from '../test/fuzz-targets.js';
import {
  ByteRing,
  COMMON_BAUD_RATES,
  decodes,
  inferFromBytes,
  RING_BYTES,
  scoreProtocols,
  slowSender,
} from './diagnosis-bytes.js';
import { uartReread } from './diagnosis-uart.js';

const N81 = (baudRate: number) => ({ baudRate, dataBits: 8 as const, parity: 'none' as const, stopBits: 1 as const });

// The fuzz suite's BLE generator mixes a characteristic with another's payload now and then (garbage on purpose):
// a bridge sends each notification under its own characteristic.
const ble = (rng: () => number): Buffer =>
  Buffer.from(
    `${
      rng() < 0.5
        ? bridgeLine('C0:FF:EE:00:00:01', 0x180d, 0x2a37, encodeHeartRate({ bpm: 40 + Math.floor(rng() * 150) }))
        : bridgeLine(
            'C0:FF:EE:00:00:01',
            0x1822,
            0x2a5f,
            encodePlxContinuous({ spo2: 85 + Math.floor(rng() * 15), pulseRate: 40 + Math.floor(rng() * 150) }),
          )
    }\n`,
  );

/** What the ring holds after a device sent its frames for a while: the newest RING_BYTES, cut mid-frame at the start. */
function stream(protocol: string, seed = 1, bytes = RING_BYTES + 333): Buffer {
  const t = protocol === 'ble-bridge' ? { valid: ble } : ALL_FUZZ_TARGETS.find((x) => x.protocol === protocol);
  if (!t) throw new Error(protocol);
  const rng = createRng(seed);
  const parts: Buffer[] = [];
  let n = 0;
  while (n < bytes) {
    const f = t.valid(rng);
    parts.push(f);
    n += f.length;
  }
  const all = Buffer.concat(parts);
  return all.subarray(all.length - Math.min(RING_BYTES, all.length) + 7);
}

describe('ByteRing', () => {
  it('keeps the newest bytes in arrival order, whatever the chunking', () => {
    const r = new ByteRing(8);
    expect(r.snapshot()).toEqual(Buffer.alloc(0));
    r.push(Buffer.from('abc'));
    expect(r.snapshot().toString()).toBe('abc');
    r.push(Buffer.from('defgh'));
    expect(r.snapshot().toString()).toBe('abcdefgh');
    r.push(Buffer.from('ij'));
    expect(r.snapshot().toString()).toBe('cdefghij');
    r.push(Buffer.from('0123456789'));
    expect(r.snapshot().toString()).toBe('23456789');
    expect(r.length).toBe(8);
    r.clear();
    expect(r.length).toBe(0);
  });
});

describe('which protocol the bytes are', () => {
  it('recognises every protocol of the registry as itself, and as nothing else', () => {
    expect(ALL_FUZZ_TARGETS.map((t) => t.protocol).sort()).toEqual([...protocolIds()].sort());
    for (const id of protocolIds()) {
      for (const seed of [1, 2, 3]) {
        const scores = scoreProtocols(stream(id, seed));
        expect(scores[0]?.protocol, `${id} seed ${seed}: ${JSON.stringify(scores)}`).toBe(id);
        expect(
          scores.filter(decodes).map((s) => s.protocol),
          `${id} seed ${seed}`,
        ).toEqual([id]);
      }
    }
  });

  it('a Nonin 8 stream on a link configured as Masimo: looks like nonin8', () => {
    expect(inferFromBytes(stream('nonin8'), { protocol: 'masimo', readAt: 9600 })).toMatchObject({
      kind: 'protocol',
      protocol: 'nonin8',
    });
  });

  it('random bytes are no protocol and no sender', () => {
    const rng = createRng(42);
    for (let k = 0; k < 20; k++) {
      const b = Buffer.from(Array.from({ length: RING_BYTES }, () => Math.floor(rng() * 256)));
      expect(scoreProtocols(b).filter(decodes)).toEqual([]);
      for (const rate of COMMON_BAUD_RATES) expect(slowSender(b, rate)).toBeNull();
    }
  });

  it('too few frames are not a match', () => {
    const three = stream('nonin8').subarray(0, 9); // two whole frames at most
    expect(scoreProtocols(three).filter(decodes)).toEqual([]);
  });
});

describe('bytes read at the wrong rate', () => {
  it('a sender 2, 4 or 8 times slower than the link leaves its pattern: its rate is named, no protocol', () => {
    for (const id of ['nonin8', 'masimo', 'nonin7', 'datex', 'ble-bridge', 'hl7']) {
      const sent = stream(id);
      for (const [tx, rx] of [
        [9600, 19200],
        [9600, 38400],
        [19200, 38400],
        [2400, 19200],
        [4800, 9600],
      ] as const) {
        const read = uartReread(sent, N81(tx), N81(rx));
        expect(scoreProtocols(read).filter(decodes), `${id} ${tx} read at ${rx}`).toEqual([]);
        expect(inferFromBytes(read, { protocol: id, readAt: rx }), `${id} ${tx} read at ${rx}`).toMatchObject({
          kind: 'slow-sender',
          baudRate: tx,
        });
      }
    }
  });

  it('a sender faster than the link leaves nothing that names its rate: nothing is claimed', () => {
    for (const id of ['nonin8', 'masimo', 'nonin7', 'datex', 'hl7']) {
      const sent = stream(id);
      for (const [tx, rx] of [
        [19200, 9600],
        [115200, 9600],
        [9600, 4800],
        [38400, 19200],
      ] as const) {
        const read = uartReread(sent, N81(tx), N81(rx));
        expect(inferFromBytes(read, { protocol: id, readAt: rx }), `${id} ${tx} read at ${rx}`).toBeNull();
      }
    }
  });

  it('Datex 8E1 read as 8N1 at its rate still decodes: the parity bit lands where the stop bit was expected', () => {
    const read = uartReread(stream('datex'), { ...N81(19200), parity: 'even' }, N81(19200));
    expect(scoreProtocols(read)[0]).toMatchObject({ protocol: 'datex' });
    expect(decodes(scoreProtocols(read)[0] ?? { protocol: '', frames: 0, rejected: 0, coverage: 0 })).toBe(true);
  });
});
