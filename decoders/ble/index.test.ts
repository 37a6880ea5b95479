import { describe, expect, it } from 'vitest';
import { getProtocol } from '../registry.js';
import { bleBridgeProtocol, detectBridge } from './index.js';

describe('ble-bridge protocol', () => {
  it('is registered under its id', () => {
    expect(getProtocol('ble-bridge')).toBe(bleBridgeProtocol);
  });

  it('detects a stream with a VWB tag at the start of a line', () => {
    expect(detectBridge(Buffer.from('VWB1 C4:7F:51:0A:22:3B LINK connected\n'))).toBe(true);
    expect(
      detectBridge(Buffer.from('ets Jun  8 2016 00:22:57\r\nrst:0x1\r\nVWB1 C47F510A223B 1822 2A5F 0061004800\n')),
    ).toBe(true);
    expect(detectBridge(Buffer.from('MSH|^~\\&|VWB1'))).toBe(false);
    expect(detectBridge(Buffer.from('xVWB1 '))).toBe(false);
    expect(detectBridge(Buffer.from('VWBX'))).toBe(false);
    expect(detectBridge(Buffer.alloc(0))).toBe(false);
  });
});
