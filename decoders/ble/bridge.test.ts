import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bleBridgeProtocol } from './index.js';
import { createBridgeDecoder, MAX_LINE_BYTES } from './bridge.js';
import { createPipeline } from '../pipeline.js';
import { decodedRecords, errorRecord, type NdjsonRecord } from '../ndjson.js';

function decodeText(chunks: (string | Uint8Array)[]): NdjsonRecord[] {
  const out: NdjsonRecord[] = [];
  const pipe = createPipeline(bleBridgeProtocol, {
    decoded: (d) => out.push(...decodedRecords(d)),
    error: (e) => out.push(errorRecord(e)),
  });
  for (const c of chunks)
    pipe.push(typeof c === 'string' ? Buffer.from(c, 'latin1') : Buffer.from(c), 1_800_000_000_000_000);
  pipe.end();
  return out;
}

const codes = (r: NdjsonRecord[]) =>
  r.map((x) => (x['kind'] === 'error' ? x['code'] : `${x['kind']}:${x['refid'] ?? x['state']}`));

// PLX continuous, flags 0, SpO2 0x0061 = 97, PR 0x0048 = 72.
const PLX = 'VWB1 C4:7F:51:0A:22:3B 1822 2A5F 0061004800';

describe('VWB1 bridge lines', () => {
  it("decodes a value line into the peripheral's values", () => {
    expect(decodeText([`${PLX}\n`])).toEqual([
      expect.objectContaining({ kind: 'obs', device: 'C47F510A223B', refid: 'MDC_PULS_OXIM_SAT_O2', value: 97 }),
      expect.objectContaining({ kind: 'obs', device: 'C47F510A223B', refid: 'MDC_PULS_OXIM_PULS_RATE', value: 72 }),
    ]);
  });

  it('accepts CR LF, tabs and repeated spaces, 128-bit UUIDs, lower-case hex', () => {
    const r = decodeText([
      'VWB1\tc47f510a223b   00001822-0000-1000-8000-00805f9b34fb 00002a5f-0000-1000-8000-00805f9b34fb 0061004800 \r\n',
    ]);
    expect(codes(r)).toEqual(['obs:MDC_PULS_OXIM_SAT_O2', 'obs:MDC_PULS_OXIM_PULS_RATE']);
  });

  it('skips comment lines silently', () => {
    expect(decodeText(['# vitalwire-ble-bridge 1.0 esp32\n', `${PLX}\n`])).toHaveLength(2);
  });

  it('reports link state lines as statuses', () => {
    expect(decodeText(['VWB1 C4:7F:51:0A:22:3B LINK connected\nVWB1 C4:7F:51:0A:22:3B LINK disconnected\n'])).toEqual([
      { kind: 'status', device: 'C47F510A223B', state: 'connected' },
      { kind: 'status', device: 'C47F510A223B', state: 'disconnected' },
    ]);
    expect(codes(decodeText(['VWB1 C4:7F:51:0A:22:3B LINK sleeping\n']))).toEqual(['VW_ERR_BLE_BAD_LINE']);
  });

  it.each([
    ['VWB2 C4:7F:51:0A:22:3B 1822 2A5F 0061004800', 'VW_ERR_BLE_UNSUPPORTED_VERSION'],
    ['VWB10 anything at all', 'VW_ERR_BLE_UNSUPPORTED_VERSION'],
    ['vwb1 C4:7F:51:0A:22:3B 1822 2A5F 0061004800', 'VW_ERR_BLE_BAD_LINE'],
    ['VWBX C4:7F:51:0A:22:3B 1822 2A5F 0061004800', 'VW_ERR_BLE_BAD_LINE'],
    ['hello world', 'VW_ERR_BLE_BAD_LINE'],
    ['VWB1 C4:7F:51:0A:22:3B 1822 2A5F', 'VW_ERR_BLE_BAD_LINE'],
    ['VWB1 C4:7F:51:0A:22:3B 1822 2A5F 0061004800 extra', 'VW_ERR_BLE_BAD_LINE'],
    ['VWB1 C4:7F:51:0A:22 1822 2A5F 0061004800', 'VW_ERR_BLE_BAD_LINE'],
    ['VWB1 C4:7F:51:0A:22:3B 18 2A5F 0061004800', 'VW_ERR_BLE_BAD_LINE'],
    ['VWB1 C4:7F:51:0A:22:3B 1822 2A5FF 0061004800', 'VW_ERR_BLE_BAD_LINE'],
    ['VWB1 C4:7F:51:0A:22:3B 1822 2A5F 006100480', 'VW_ERR_BLE_BAD_LINE'],
    ['VWB1 C4:7F:51:0A:22:3B 1822 2A5F 00610048ZZ', 'VW_ERR_BLE_BAD_LINE'],
    ['VWB1 C4:7F:51:0A:22:3B 180F 2A19 64', 'VW_ERR_BLE_UNKNOWN_CHARACTERISTIC'],
    [
      'VWB1 C4:7F:51:0A:22:3B 6E400001-B5A3-F393-E0A9-E50E24DCCA9E 6E400003-B5A3-F393-E0A9-E50E24DCCA9E 01',
      'VW_ERR_BLE_UNKNOWN_CHARACTERISTIC',
    ],
    ['VWB1 C4:7F:51:0A:22:3B 1822 2A5F 1F00', 'VW_ERR_BLE_BAD_PAYLOAD'],
  ])('rejects %j with %s and goes on with the next line', (line, code) => {
    expect(codes(decodeText([`${line}\n${PLX}\n`]))).toEqual([
      code,
      'obs:MDC_PULS_OXIM_SAT_O2',
      'obs:MDC_PULS_OXIM_PULS_RATE',
    ]);
  });

  it('names the unknown characteristic and its peripheral', () => {
    expect(decodeText(['VWB1 C4:7F:51:0A:22:3B 180F 2A19 64\n'])[0]).toMatchObject({
      detail: '0x2A19 from C47F510A223B',
    });
  });

  it('reads the longest valid line and drops a longer one whole', () => {
    // PLX continuous with 507 trailing bytes: 512-byte value, 128-bit UUIDs, colon address.
    const long = `VWB1 C4:7F:51:0A:22:3B 00001822-0000-1000-8000-00805F9B34FB 00002A5F-0000-1000-8000-00805F9B34FB 0061004800${'00'.repeat(507)}`;
    expect(long.length).toBe(MAX_LINE_BYTES);
    expect(codes(decodeText([`${long}\n`]))).toEqual(['obs:MDC_PULS_OXIM_SAT_O2', 'obs:MDC_PULS_OXIM_PULS_RATE']);
    expect(codes(decodeText([`${long}00\n${PLX}\n`]))).toEqual([
      'VW_ERR_FRAME_TOO_LARGE',
      'obs:MDC_PULS_OXIM_SAT_O2',
      'obs:MDC_PULS_OXIM_PULS_RATE',
    ]);
  });

  it('reports a line cut off by the end of input as truncated', () => {
    expect(codes(decodeText([`${PLX}\n${PLX.slice(0, 20)}`]))).toEqual([
      'obs:MDC_PULS_OXIM_SAT_O2',
      'obs:MDC_PULS_OXIM_PULS_RATE',
      'VW_ERR_FRAME_TRUNCATED',
    ]);
  });

  it('never throws on random bytes, and a valid line after them still decodes', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 400 }), { maxLength: 12 }), (chunks) => {
        const r = decodeText([...chunks, `\n${PLX}\n`]);
        for (const x of r) if (x['kind'] === 'error') expect(String(x['code'])).toMatch(/^VW_ERR_(BLE|FRAME)_/);
        expect(codes(r.slice(-2))).toEqual(['obs:MDC_PULS_OXIM_SAT_O2', 'obs:MDC_PULS_OXIM_PULS_RATE']);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on near-miss lines built from format pieces', () => {
    const piece = fc.constantFrom(
      'VWB1',
      'VWB',
      'VWB9',
      'C4:7F:51:0A:22:3B',
      'C47F510A223B',
      '1822',
      '2A5F',
      '2A5E',
      '2A37',
      '2A1C',
      '2A1E',
      '2A35',
      '2A36',
      '00002A5F-0000-1000-8000-00805F9B34FB',
      'LINK',
      'connected',
      '#',
      '',
      ' ',
      '\t',
    );
    const hexish = fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString('hex'));
    const decoder = createBridgeDecoder();
    fc.assert(
      fc.property(fc.array(fc.oneof(piece, hexish, fc.string({ maxLength: 6 })), { maxLength: 8 }), (parts) => {
        const r = decoder.decode(Buffer.from(parts.join(' '), 'latin1'), { gatewayTimeUs: 1, defaultUtcOffsetMin: 0 });
        if (!r.ok) expect(r.error.code).toMatch(/^VW_ERR_BLE_/);
        else
          for (const o of r.value.observations) expect(o.number === undefined || Number.isFinite(o.number)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
