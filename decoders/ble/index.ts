// The BLE-to-serial bridge protocol: Bluetooth SIG health profile notifications, one VWB line
// each (docs/ble-bridge.md), framed by LF (CR LF accepted) and decoded per line.
import { createDelimitedFramer, LF } from '../framing/delimited.js';
import type { Protocol } from '../registry.js';
import { createBridgeDecoder, MAX_LINE_BYTES } from './bridge.js';

/** Does this stream head hold a VWB<digit> tag at the start of a line? */
export function detectBridge(head: Buffer): boolean {
  for (let i = head.indexOf('VWB'); i !== -1; i = head.indexOf('VWB', i + 1)) {
    const d = head[i + 3] ?? 0;
    if ((i === 0 || head[i - 1] === LF) && d >= 0x30 && d <= 0x39) return true;
  }
  return false;
}

export const bleBridgeProtocol: Protocol = {
  id: 'ble-bridge',
  description:
    'Bluetooth SIG health profiles (heart rate, PLX, thermometer, blood pressure) via a BLE-to-serial bridge, VWB line format',
  // Default limit: the longest valid v1 line; anything longer is dropped whole and reported.
  createFramer: (opts) =>
    createDelimitedFramer({ delimiter: [LF], maxFrameBytes: opts?.maxFrameBytes ?? MAX_LINE_BYTES }),
  createDecoder: () => createBridgeDecoder(),
  detect: detectBridge,
};
