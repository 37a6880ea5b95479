// Builds HL7 v2 messages for decoder tests, written from IHE PCD TF-2 (PCD-01 ORU^R01, PCD-04
// ORU^R40) and HL7 v2.6: MSH with a processing id (MSH-11), one OBR, then the given OBX rows.
// Segments end with CR (HL7 v2 §2.5.4). Test support only: no decoder imports this.
import { createHl7Decoder } from './decoder.js';
import { decodedRecords, type NdjsonRecord } from '../ndjson.js';
import type { Decoded } from '../decoded.js';

export interface MessageOptions {
  type?: string; // MSH-9, default ORU^R01^ORU_R01
  processingId?: string; // MSH-11, default P
  obr?: string; // the OBR segment, default one with OBR-7 20260301100000+0700
  extra?: string[]; // segments between MSH and OBR (MSA, QRD...)
}

export function message(obx: string[], o: MessageOptions = {}): Buffer {
  return Buffer.from(
    [
      `MSH|^~\\&|MON^0123456789ABCDEF^EUI-64|WARD|||20260301100000+0700||${o.type ?? 'ORU^R01^ORU_R01'}|MSG1|${o.processingId ?? 'P'}|2.6|||AL|NE`,
      ...(o.extra ?? []),
      'PID|||^^^H^PI||^^^^^^L',
      o.obr ?? 'OBR|1||1^MON^0123456789ABCDEF^EUI-64|182777000^monitoring of patient^SCT|||20260301100000+0700',
      ...obx,
    ].join('\r'),
  );
}

export const CTX = { gatewayTimeUs: 1_772_334_000_000_000, defaultUtcOffsetMin: 0 };

export function decode(buf: Buffer, dec = createHl7Decoder()): Decoded {
  const r = dec.decode(buf, CTX);
  if (!r.ok) throw new Error(`${r.error.code} ${r.error.detail}`);
  return r.value;
}

export function records(obx: string[], o: MessageOptions = {}): NdjsonRecord[] {
  return decodedRecords(decode(message(obx, o)));
}
