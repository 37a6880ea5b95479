// Minimal IHE PCD-01 (ORU^R01) decoder for the walking skeleton: numeric OBX rows with MDC
// codes and units, OBX-8 DEMO, OBX-14 time, device identity from OBX-18 / MSH-3 and the bed
// from PV1-3. The decoders issue replaces it with the full HL7 model (escapes, charsets,
// enumerations, waveforms, alarms).
import { Flag, type IObservation } from '../../proto/index.js';
import { decodeError, type DecodeError } from '../errors.js';
import { metricByRefId, unitByRefId } from '../mdc.js';
import type { DecodeContext, DecodeResult } from '../decoded.js';
import { parseHl7Time } from './time.js';

const SEGMENT_END = /\r\n|\r|\n/;

export function decodePcd01Minimal(frame: Buffer, ctx: DecodeContext): DecodeResult {
  const text = frame.toString('utf8');
  const segments = text.split(SEGMENT_END).filter((s) => s.length > 0);
  const msh = segments[0];
  if (!msh || !msh.startsWith('MSH') || msh.length < 8) {
    return { ok: false, error: decodeError('VW_ERR_HL7_NO_MSH', `${frame.length} bytes`) };
  }
  const fs = msh[3] as string;
  const cs = msh[4] as string;
  if (fs === cs || /[A-Za-z0-9\r\n]/.test(fs + cs)) {
    return { ok: false, error: decodeError('VW_ERR_HL7_BAD_ENCODING_CHARS', 'MSH-1/MSH-2') };
  }
  // For MSH the field separator itself is MSH-1, so MSH-n is at index n-1.
  const mshF = msh.split(fs);
  const type = (mshF[8] ?? '').split(cs);
  if (type[0] !== 'ORU' || type[1] !== 'R01') {
    return { ok: false, error: decodeError('VW_ERR_HL7_UNSUPPORTED_MESSAGE', `${type[0] ?? ''}^${type[1] ?? ''}`) };
  }
  const offset = ctx.defaultUtcOffsetMin ?? 0;
  const msgTime = parseHl7Time(mshF[6] ?? '', offset);
  const out: IObservation[] = [];
  const warnings: DecodeError[] = [];
  let device = eui64Of((mshF[2] ?? '').split(cs));
  let bed: string | undefined;
  for (let i = 1; i < segments.length; i++) {
    const seg = segments[i] as string;
    if (seg.startsWith('PV1')) {
      const loc = (seg.split(fs)[3] ?? '').split(cs).filter((c) => c.length > 0);
      if (loc.length > 0) bed = loc.slice(0, 3).join('-');
      continue;
    }
    if (!seg.startsWith('OBX')) continue;
    const f = seg.split(fs);
    const eq = eui64Of((f[18] ?? '').split(cs));
    if (eq) device ??= eq;
    if (f[2] !== 'NM') continue; // header rows and non-numerics: the full decoder handles them
    const value = Number(f[5]);
    if (f[5] === undefined || f[5] === '' || !Number.isFinite(value)) {
      warnings.push(decodeError('VW_ERR_HL7_BAD_VALUE', `OBX-${f[1] ?? '?'} NM value unreadable`));
      continue;
    }
    const code = (f[3] ?? '').split(cs);
    const unitF = (f[6] ?? '').split(cs);
    const metric = metricByRefId(code[1] ?? '');
    const unit = unitByRefId(unitF[1] ?? '');
    let flags = 0;
    for (const fl of (f[8] ?? '').split(msh[5] ?? '~')) if (fl === 'DEMO') flags |= Flag.FLAG_DEMO;
    if (!metric) flags |= Flag.FLAG_UNMAPPED;
    const t = f[14] ? parseHl7Time(f[14], offset) : msgTime;
    const obs: IObservation = {
      time: {
        gatewayTimeUs: ctx.gatewayTimeUs,
        deviceTimeUs: t ? t.us : 0,
        ...(t?.offsetMin !== undefined ? { deviceUtcOffsetMin: t.offsetMin } : {}),
      },
      mdc: metric ? metric.mdc : 0,
      refid: metric ? metric.refid : '',
      number: value,
      unit: unit ? unit.ucum : (unitF[0] ?? ''),
      unitMdc: unit ? unit.mdc : 0,
      vendorCode: f[3] ?? '',
      vendorUnit: f[6] ?? '',
      flags,
      containment: f[4] ?? '',
    };
    out.push(obs);
  }
  return {
    ok: true,
    value: {
      ...(device ? { device } : {}),
      ...(bed ? { bed } : {}),
      ...(mshF[9] ? { controlId: mshF[9] } : {}),
      observations: out,
      waves: [],
      alarms: [],
      warnings,
    },
  };
}

// IHE PCD: EI with the EUI-64 in component 2 and "EUI-64" as universal id type (component 3).
function eui64Of(c: string[]): string | undefined {
  if (c[2] === 'EUI-64' && /^[0-9A-Fa-f]{16}$/.test(c[1] ?? '')) return (c[1] as string).toUpperCase();
  if (c[3] === 'EUI-64' && /^[0-9A-Fa-f]{16}$/.test(c[2] ?? '')) return (c[2] as string).toUpperCase();
  return undefined;
}
