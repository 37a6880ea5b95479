// Decoder for the vitalwire BLE bridge line format, version 1 (docs/ble-bridge.md):
//   VWB1 <peripheral address> <service UUID> <characteristic UUID> <value hex>
//   VWB1 <peripheral address> LINK connecting|connected|disconnected
//   # comment
// One line is one frame (decoders/framing/delimited.ts splits on LF, CR LF too). A line it
// cannot read is a coded error and the next line decodes: a bad line costs only itself.
import { LinkState, type IDeviceStatus, type IObservation } from '../../proto/index.js';
import type { DecodeContext, DecodeResult } from '../decoded.js';
import { decodeError, type DecodeError } from '../../lib/errors.js';
import type { FrameDecoder } from '../registry.js';
import { CHARACTERISTICS } from './characteristics.js';
import type { BleContext } from './context.js';
import { AddressParser, decodeHex, parseUuid16, UUID_INVALID, UUID_VENDOR } from './line-fields.js';

/** The line format version this decoder reads. */
export const BRIDGE_VERSION = 1;
/** ATT: an attribute value is at most 512 bytes, so 1024 hex digits. */
export const MAX_VALUE_BYTES = 512;
/** Longest valid v1 line: version, 17-char address, two 36-char UUIDs, 1024 hex digits, spaces. */
export const MAX_LINE_BYTES = 4 + 1 + 17 + 1 + 36 + 1 + 36 + 1 + 2 * MAX_VALUE_BYTES;

const MAX_FIELDS = 6; // one more than v1 has, to tell "too many" from "exactly five"
const SP = 0x20;
const TAB = 0x09;
const CR = 0x0d;
const HASH = 0x23;

const LINK_STATES: Readonly<Record<string, number>> = {
  connecting: LinkState.LINK_STATE_CONNECTING,
  connected: LinkState.LINK_STATE_CONNECTED,
  disconnected: LinkState.LINK_STATE_DISCONNECTED,
};

function isSpace(b: number | undefined): boolean {
  return b === SP || b === TAB || b === CR;
}

export function createBridgeDecoder(): FrameDecoder {
  // Per-link scratch, reused for every line: field bounds, the decoded value, the address cache.
  const starts = new Int32Array(MAX_FIELDS);
  const ends = new Int32Array(MAX_FIELDS);
  const value = Buffer.alloc(MAX_VALUE_BYTES);
  const addresses = new AddressParser();
  const ctx: BleContext = { gatewayTimeUs: 0, defaultUtcOffsetMin: 0, out: [], warnings: [] };

  function fields(line: Buffer): number {
    let n = 0;
    let i = 0;
    const len = line.length;
    while (i < len) {
      while (i < len && isSpace(line[i])) i++;
      if (i >= len) break;
      if (n === MAX_FIELDS) return n + 1;
      starts[n] = i;
      while (i < len && !isSpace(line[i])) i++;
      ends[n] = i;
      n++;
    }
    return n;
  }

  function bad(detail: string): DecodeResult {
    return { ok: false, error: decodeError('VW_ERR_BLE_BAD_LINE', detail) };
  }

  /** 1 for "VWB1", another number for "VWB<n>", -1 when the field is not a version tag at all. */
  function version(line: Buffer, s: number, e: number): number {
    if (e - s < 4 || e - s > 8 || line[s] !== 0x56 || line[s + 1] !== 0x57 || line[s + 2] !== 0x42) return -1;
    let v = 0;
    for (let i = s + 3; i < e; i++) {
      const d = (line[i] ?? 0) - 0x30;
      if (d < 0 || d > 9) return -1;
      v = v * 10 + d;
    }
    return v;
  }

  function decode(line: Buffer, dc: DecodeContext): DecodeResult {
    const n = fields(line);
    const s0 = starts[0] ?? 0;
    if (n === 0 || line[s0] === HASH) return ok(undefined, [], undefined); // blank or comment line
    const v = version(line, s0, ends[0] ?? 0);
    if (v < 0) return bad(`line does not start with VWB<version> (${preview(line)})`);
    if (v !== BRIDGE_VERSION) {
      return {
        ok: false,
        error: decodeError('VW_ERR_BLE_UNSUPPORTED_VERSION', `VWB${v}; this decoder reads VWB${BRIDGE_VERSION}`),
      };
    }
    const device = n >= 2 ? addresses.parse(line, starts[1] ?? 0, ends[1] ?? 0) : '';
    if (n === 4 && line.toString('latin1', starts[2] ?? 0, ends[2] ?? 0) === 'LINK') {
      if (device === '') return bad('LINK line: peripheral address is not 12 hex digits');
      const state = LINK_STATES[line.toString('latin1', starts[3] ?? 0, ends[3] ?? 0)];
      if (state === undefined) return bad('LINK line: state is not connecting|connected|disconnected');
      return ok(device, [], [{ time: { gatewayTimeUs: dc.gatewayTimeUs }, state }]);
    }
    if (n !== 5) return bad(`${n > MAX_FIELDS ? `more than ${MAX_FIELDS}` : n} fields, a VWB1 value line has 5`);
    if (device === '') return bad('peripheral address is not 12 hex digits');
    const service = parseUuid16(line, starts[2] ?? 0, ends[2] ?? 0);
    if (service === UUID_INVALID) return bad('service UUID is neither 4 hex digits nor a 128-bit UUID');
    const chr = parseUuid16(line, starts[3] ?? 0, ends[3] ?? 0);
    if (chr === UUID_INVALID) return bad('characteristic UUID is neither 4 hex digits nor a 128-bit UUID');
    const len = decodeHex(line, starts[4] ?? 0, ends[4] ?? 0, value);
    if (len < 0) return bad(`value is not an even number of hex digits (at most ${2 * MAX_VALUE_BYTES})`);
    const decoder = chr === UUID_VENDOR ? undefined : CHARACTERISTICS.get(chr);
    if (!decoder) {
      const name =
        chr === UUID_VENDOR
          ? line.toString('latin1', starts[3] ?? 0, ends[3] ?? 0)
          : `0x${chr.toString(16).toUpperCase().padStart(4, '0')}`;
      return { ok: false, error: decodeError('VW_ERR_BLE_UNKNOWN_CHARACTERISTIC', `${name} from ${device}`) };
    }
    if (len === 0) return { ok: false, error: decodeError('VW_ERR_BLE_BAD_PAYLOAD', 'empty characteristic value') };
    ctx.gatewayTimeUs = dc.gatewayTimeUs;
    ctx.defaultUtcOffsetMin = dc.defaultUtcOffsetMin ?? 0;
    ctx.out = [];
    ctx.warnings = [];
    const err = decoder(value, len, ctx);
    if (err) return { ok: false, error: err };
    return ok(device, ctx.out, undefined, ctx.warnings);
  }

  return {
    decode(frame, dc) {
      try {
        return decode(frame, dc);
      } catch (e) {
        // Unreachable by design (the fuzz test holds it to that); a bug must still cost one line only.
        return bad(`internal: ${e instanceof Error ? e.message : String(e)}`);
      }
    },
  };
}

function ok(
  device: string | undefined,
  observations: IObservation[],
  statuses: IDeviceStatus[] | undefined,
  warnings: DecodeError[] = [],
): DecodeResult {
  return {
    ok: true,
    value: {
      ...(device !== undefined ? { device } : {}),
      observations,
      waves: [],
      alarms: [],
      ...(statuses ? { statuses } : {}),
      warnings,
    },
  };
}

/** The first bytes of a bad line, printable, for the error detail. */
function preview(line: Buffer): string {
  return JSON.stringify(line.toString('latin1', 0, Math.min(line.length, 24)));
}
