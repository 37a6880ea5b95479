// Masimo Radical-7 ASCII 1 line encoder: values in, one line out (without its CR LF), in the
// widths the device uses (MD PnP example "12/01/05 11:56:29 SN=0123456789 SPO2=098% BPM=240
// PI=20.00% SPCO=01.0% SPMET=00.5% DESAT=01 PIDELTA=-02 PVI=027 ALARM=0000 EXC=000820"; Rad-8
// output "SPCO=--.-% SPMET=--.-% DESAT=-- PIDELTA=+--"). `null` is sent as dashes. For simulators
// and round-trip tests.
import type { LocalTime } from './line.js';

export interface MasimoLine {
  time: LocalTime;
  sn: string | null;
  spo2: number | null;
  bpm: number | null;
  pi: number | null;
  spco: number | null;
  spmet: number | null;
  desat: number | null;
  pidelta: number | null;
  pvi: number | null;
  alarm: number;
  exc: number;
}

const two = (n: number): string => String(n).padStart(2, '0');
const int = (v: number | null, width: number): string =>
  v === null ? '-'.repeat(width) : String(Math.round(v)).padStart(width, '0');
const fixed = (v: number | null, width: number, digits: number): string =>
  v === null ? `${'-'.repeat(width - digits - 1)}.${'-'.repeat(digits)}` : v.toFixed(digits).padStart(width, '0');
const signed = (v: number | null): string =>
  v === null ? '+--' : `${v < 0 ? '-' : '+'}${String(Math.abs(Math.round(v))).padStart(2, '0')}`;
const hex = (v: number, width: number): string => (v >>> 0).toString(16).toUpperCase().padStart(width, '0');

export function encodeMasimoLine(l: MasimoLine): string {
  const t = l.time;
  return [
    `${two(t.month)}/${two(t.day)}/${two(t.year % 100)} ${two(t.hour)}:${two(t.minute)}:${two(t.second)}`,
    `SN=${l.sn ?? '----------'}`,
    `SPO2=${int(l.spo2, 3)}%`,
    `BPM=${int(l.bpm, 3)}`,
    `PI=${fixed(l.pi, 5, 2)}%`,
    `SPCO=${fixed(l.spco, 4, 1)}%`,
    `SPMET=${fixed(l.spmet, 4, 1)}%`,
    `DESAT=${int(l.desat, 2)}`,
    `PIDELTA=${signed(l.pidelta)}`,
    `PVI=${int(l.pvi, 3)}`,
    `ALARM=${hex(l.alarm, 4)}`,
    `EXC=${hex(l.exc, 6)}`,
  ].join(' ');
}
