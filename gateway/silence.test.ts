import { describe, expect, it } from 'vitest';
import { protocolIds } from '../decoders/registry.js';
import { PROTOCOL_PERIOD_MS, SILENCE_MIN_MS, silenceAfterMs, silenceDiagnosis } from './silence.js';

describe('silence thresholds', () => {
  it('has a period (or says none) for every protocol of the decoder registry', () => {
    expect(Object.keys(PROTOCOL_PERIOD_MS).sort()).toEqual([...protocolIds()].sort());
  });

  it('defaults to three periods of the protocol, never under the floor; a device config overrides or turns it off', () => {
    // Nonin 7 sends 75 frames a second: three periods are 40 ms, so the floor applies.
    expect(silenceAfterMs('nonin7', undefined)).toBe(SILENCE_MIN_MS);
    expect(silenceAfterMs('datex', undefined)).toBe(15_000);
    expect(silenceAfterMs('hl7', undefined)).toBe(180_000);
    expect(silenceAfterMs('hl7', { periodMs: 5000 })).toBe(15_000);
    expect(silenceAfterMs('hl7', { periodMs: 5000, afterMs: 7000 })).toBe(7000);
    expect(silenceAfterMs('nonin7', { afterMs: 200 })).toBe(200);
    expect(silenceAfterMs('ble-bridge', 'off')).toBeNull();
    expect(silenceAfterMs('some-new-protocol', undefined)).toBeNull();
  });

  it('tells a device that stopped from one whose bytes make no frame, without any value', () => {
    expect(
      silenceDiagnosis({ silentMs: 12_400, protocol: 'nonin8', bytes: 0, badFrames: 0, neverFramed: false }),
    ).toMatch(/^no bytes from the device for 12 s/);
    const garbled = silenceDiagnosis({
      silentMs: 5000,
      protocol: 'masimo',
      bytes: 4800,
      badFrames: 3,
      neverFramed: true,
    });
    expect(garbled).toMatch(
      /4800 bytes but no valid masimo frame since the link opened \(5 s\), 3 frames rejected: check the protocol, baud rate/,
    );
  });
});
