// Test data: a Nonin format 7 packet of plausible values (HR 72, SpO2 97) and a pleth ramp from `base`.
import type { Nonin7Packet } from './encode.js';

export function nonin7Packet(timer: number, base = 0x100): Nonin7Packet {
  return {
    pleth: Array.from({ length: 25 }, (_, k) => base + k),
    timer,
    hr: 72,
    spo2: 97,
    spo2D: 97,
    spo2Fast: 96,
    spo2BB: 95,
    eHr: 71,
    eSpo2: 97,
    eSpo2D: 97,
    hrD: 72,
    eHrD: 71,
  };
}
