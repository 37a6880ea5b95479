// Masimo Radical-7 ASCII line decoder: one line (framed by decoders/framing/delimited.ts) in,
// the line's numerics out (line.ts has the layout).
// - Time: the device clock as shown, local time without an offset, so the gateway's configured
//   offset (ctx.defaultUtcOffsetMin) converts it to UTC and no device offset is stated.
// - SN=<serial> is the device identity (Decoded.device), unless it is dashes.
// - "No value" (dashes) -> FLAG_UNAVAILABLE, value unset.
// - EXC bits -> flags on every value; SpCO/SpMet low confidence -> FLAG_QUESTIONABLE on that
//   value only; ALARM limit bits -> FLAG_ABNORMAL on the value they name (exceptions.ts).
// - Fields without an MDC code, known or not, are emitted with FLAG_UNMAPPED and the Masimo key.
// - A line without a valid time is rejected (VW_ERR_MASIMO_SYNTAX); noise before the time is
//   skipped with that code as a warning; an unreadable value is skipped with
//   VW_ERR_MASIMO_BAD_VALUE and the rest of the line is kept.
import { Flag, type IObservation, type ITiming } from '../../proto/index.js';
import type { DecodeContext, DecodeResult } from '../decoded.js';
import { decodeError, type DecodeError } from '../../lib/errors.js';
import type { FrameDecoder } from '../registry.js';
import { ALARM_LIMIT_BITS, EXC_FIELD_BITS, excFlags } from './exceptions.js';
import { localTimeToUtcUs, readHex, readNumeric, splitLine, type RawField } from './line.js';
import { ALARM_KEY, EXC_KEY, MASIMO_TERMS, SERIAL_KEY, unknownTerm } from './terms.js';

/** Masimo lines are ~140 bytes; a longer line is noise or two lines run together. */
export const MASIMO_MAX_LINE_BYTES = 512;

export function decodeMasimoLine(frame: Buffer, ctx: DecodeContext): DecodeResult {
  const text = frame.toString('latin1');
  const line = splitLine(text);
  if (!line) {
    return {
      ok: false,
      error: decodeError('VW_ERR_MASIMO_SYNTAX', `no MM/dd/yy HH:mm:ss time in a ${frame.length}-byte line`),
    };
  }
  const warnings: DecodeError[] = [];
  const lead = text.slice(0, line.skipped).trim();
  if (lead.length > 0)
    warnings.push(decodeError('VW_ERR_MASIMO_SYNTAX', `${lead.length} characters before the time skipped`));

  let alarm = 0;
  let exc = 0;
  let device: string | undefined;
  const measured: RawField[] = [];
  for (const f of line.fields) {
    if (f.key === ALARM_KEY || f.key === EXC_KEY) {
      const v = readHex(f.raw);
      if (v === undefined) warnings.push(decodeError('VW_ERR_MASIMO_BAD_VALUE', `${f.key}=${f.raw}: not hex`));
      else if (f.key === ALARM_KEY) alarm = v;
      else exc = v;
    } else if (f.key === SERIAL_KEY) {
      if (/^[0-9A-Za-z]+$/.test(f.raw)) device = f.raw;
    } else {
      measured.push(f);
    }
  }

  const time: ITiming = {
    gatewayTimeUs: ctx.gatewayTimeUs,
    deviceTimeUs: localTimeToUtcUs(line.time, ctx.defaultUtcOffsetMin ?? 0),
  };
  const lineFlags = excFlags(exc);
  const observations: IObservation[] = [];
  for (const f of measured) {
    const v = readNumeric(f.raw);
    if (v.kind === 'bad') {
      warnings.push(decodeError('VW_ERR_MASIMO_BAD_VALUE', `${f.key}=${f.raw}: not a number or "no value"`));
      continue;
    }
    const t = MASIMO_TERMS[f.key] ?? unknownTerm(v.unit);
    let flags = lineFlags | t.flags;
    if (exc & (EXC_FIELD_BITS[f.key] ?? 0)) flags |= Flag.FLAG_QUESTIONABLE;
    if (alarm & (ALARM_LIMIT_BITS[f.key] ?? 0)) flags |= Flag.FLAG_ABNORMAL;
    const o: IObservation = {
      time,
      mdc: t.mdc,
      refid: t.refid,
      unit: t.unit,
      unitMdc: t.unitMdc,
      vendorCode: f.key,
      vendorUnit: v.unit,
      flags: v.kind === 'none' ? flags | Flag.FLAG_UNAVAILABLE : flags,
    };
    if (v.kind === 'number') o.number = v.value;
    observations.push(o);
  }
  return {
    ok: true,
    value: { ...(device !== undefined ? { device } : {}), observations, waves: [], alarms: [], warnings },
  };
}

export function createMasimoDecoder(): FrameDecoder {
  return { decode: decodeMasimoLine };
}
