// Every vendor map, merged into the lookups the decoders use. To add a vendor: write a map
// (types.ts) in this folder with its sources and list it here; decoders/vendor-maps/index.test.ts
// checks that maps do not contradict each other and that every MDC reference id they name exists.
import type { AlertMeaning, VendorMap } from './types.js';
import { COMMON } from './common.js';
import { PHILIPS_MDIL } from './philips.js';
import { VITALRECORDER } from './vitalrecorder.js';

export type { AlertMeaning, VendorMap } from './types.js';

export const VENDOR_MAPS: readonly VendorMap[] = [COMMON, VITALRECORDER, PHILIPS_MDIL];

const spellings = new Map<string, string>();
const codes = new Map<string, string>();
const hexSystems = new Set<string>();
const alerts = new Map<string, Map<string, AlertMeaning>>();
for (const m of VENDOR_MAPS) {
  for (const [k, v] of Object.entries(m.unitSpellings ?? {})) spellings.set(k, v);
  for (const [k, v] of Object.entries(m.codes ?? {})) codes.set(k, v);
  for (const s of m.hexPartitionTermSystems ?? []) hexSystems.add(s);
  if (m.alerts) alerts.set(m.alerts.codingSystem, new Map(Object.entries(m.alerts.codes)));
}

/** UCUM a sender's unit spelling stands for, if a map knows it. */
export function unitSpelling(text: string): string | undefined {
  return spellings.get(text);
}
/** MDC reference id of a sender's local code, if a map knows it. */
export function localCode(code: string): string | undefined {
  return codes.get(code);
}
/** Does this coding system write codes as hexadecimal `<partition>-<term>`? */
export function isHexPartitionTermSystem(system: string): boolean {
  return hexSystems.has(system);
}
/** Is this the coding system of free-text alarm rows (Philips MDIL-ALERT)? */
export function isAlertSystem(system: string): boolean {
  return alerts.has(system);
}
export function alertMeaning(system: string, code: string): AlertMeaning | undefined {
  return alerts.get(system)?.get(code);
}

const HEX_CODE = /^([0-9A-Fa-f]{4})-([0-9A-Fa-f]{4})$/;
/** `0002-4bb8` -> 2 * 65536 + 0x4bb8 = 150456; NaN when not of that form. */
export function hexPartitionTerm(code: string): number {
  const m = HEX_CODE.exec(code);
  return m ? parseInt(m[1] as string, 16) * 65536 + parseInt(m[2] as string, 16) : NaN;
}
