import { describe, expect, it } from 'vitest';
import { AddressParser, decodeHex, parseUuid16, UUID_INVALID, UUID_VENDOR } from './line-fields.js';

const field = (s: string): [Buffer, number, number] => {
  const b = Buffer.from(`>${s}<`, 'latin1'); // fields sit inside a longer line
  return [b, 1, 1 + s.length];
};

describe('VWB line fields', () => {
  it('normalises peripheral addresses to 12 upper-case hex digits', () => {
    const a = new AddressParser();
    expect(a.parse(...field('C4:7F:51:0A:22:3B'))).toBe('C47F510A223B');
    expect(a.parse(...field('c4-7f-51-0a-22-3b'))).toBe('C47F510A223B');
    expect(a.parse(...field('c47f510a223b'))).toBe('C47F510A223B');
    expect(a.parse(...field('C4:7F:51:0A:22:3B'))).toBe('C47F510A223B'); // cached path
  });

  it.each(['C4:7F:51:0A:22', 'C4:7F-51:0A:22:3B', 'G4:7F:51:0A:22:3B', 'C47F510A223', 'C4.7F.51.0A.22.3B', ''])(
    'rejects the address %j',
    (s) => {
      expect(new AddressParser().parse(...field(s))).toBe('');
    },
  );

  it('reads 16-bit UUIDs in short and Base UUID form', () => {
    expect(parseUuid16(...field('2A5F'))).toBe(0x2a5f);
    expect(parseUuid16(...field('2a5f'))).toBe(0x2a5f);
    expect(parseUuid16(...field('00002A5F-0000-1000-8000-00805F9B34FB'))).toBe(0x2a5f);
    expect(parseUuid16(...field('00002a37-0000-1000-8000-00805f9b34fb'))).toBe(0x2a37);
  });

  it('tells a vendor 128-bit UUID from a malformed one', () => {
    expect(parseUuid16(...field('6E400003-B5A3-F393-E0A9-E50E24DCCA9E'))).toBe(UUID_VENDOR);
    expect(parseUuid16(...field('12342A5F-0000-1000-8000-00805F9B34FB'))).toBe(UUID_VENDOR);
    for (const s of [
      '2A5',
      '0x2A5F',
      '2A5G',
      '00002A5F-0000-1000-8000-00805F9B34F',
      '00002A5F+0000-1000-8000-00805F9B34FB',
    ]) {
      expect(parseUuid16(...field(s)), s).toBe(UUID_INVALID);
    }
  });

  it('decodes hex into the reused buffer and refuses odd, non-hex or oversize values', () => {
    const out = Buffer.alloc(4);
    expect(decodeHex(...field('0aFf'), out)).toBe(2);
    expect([...out.subarray(0, 2)]).toEqual([0x0a, 0xff]);
    expect(decodeHex(...field('0aF'), out)).toBe(-1);
    expect(decodeHex(...field('0g'), out)).toBe(-1);
    expect(decodeHex(...field('0011223344'), out)).toBe(-1);
  });
});
