// HL7 v2 acknowledgements as a pure function: the MLLP listener calls it after the message's
// payloads are durably stored (commit after write), never before.
//
// MSA-1 is AA (accepted), AE (error: the sender may retry) or AR (rejected: do not resend
// unchanged), with MSA-2 the original MSH-10. Whether to answer follows MSH-15 (accept ack
// type) and MSH-16 (application ack type), HL7 Table 0155: AL always, NE never, ER only on
// error, SU only on success; both empty means original mode, which always answers.
import { createHl7Parser, isEmpty, spanEnd, spanStart, type Hl7Message, type Span } from './message.js';
import { formatHl7Time } from './time.js';

export type AckCode = 'AA' | 'AE' | 'AR';

export interface AckOptions {
  code: AckCode;
  /** MSH-10 of the ACK itself. */
  controlId: string;
  nowUs: number;
  utcOffsetMin?: number;
  /** Short human-readable reason for AE/AR (ERR-8); never patient data. */
  text?: string;
  /** HL7 Table 0357 error code for AE/AR, e.g. 207 application internal error, 200 unsupported message type. */
  hl7ErrorCode?: number;
}

export interface AckResult {
  /** The ACK message (no MLLP framing), or null when MSH-15/16 say none is wanted. */
  message: string | null;
  /** MSH-10 of the acknowledged message ('' when it could not be read). */
  originalControlId: string;
}

const parser = createHl7Parser();

function raw(m: Hl7Message, s: Span): string {
  return isEmpty(s) ? '' : m.buf.toString('latin1', spanStart(s), spanEnd(s));
}

function wanted(type: string, code: AckCode): boolean {
  switch (type) {
    case 'AL':
      return true;
    case 'NE':
      return false;
    case 'ER':
      return code !== 'AA';
    case 'SU':
      return code === 'AA';
    default:
      return false;
  }
}

export function buildAck(original: Buffer, o: AckOptions): AckResult {
  const failure = parser.parse(original);
  const ts = formatHl7Time(o.nowUs, o.utcOffsetMin ?? 0);
  if (failure) {
    // No readable MSH: answer with a reject in default delimiters so the sender stops resending
    // garbage; MSA-2 is empty because there is no control id to echo.
    const text = o.text ?? 'message header unreadable';
    return {
      message: `MSH|^~\\&|VITALWIRE||||${ts}||ACK^^ACK|${o.controlId}|P|2.6\rMSA|AR|\rERR|||100^Segment sequence error^HL70357|E||||${text}\r`,
      originalControlId: '',
    };
  }
  const m = parser;
  const accept = raw(m, m.field(0, 15));
  const app = raw(m, m.field(0, 16));
  const originalControlId = raw(m, m.field(0, 10));
  const send = (accept === '' && app === '') || wanted(accept, o.code) || wanted(app, o.code);
  if (!send) return { message: null, originalControlId };
  const fs = String.fromCharCode(m.delims.field);
  const cs = String.fromCharCode(m.delims.component);
  const enc = raw(m, m.field(0, 2)); // kept as sent: HL7 2.7 senders add a truncation character
  const trigger = m.buf.toString('latin1', ...bounds(m, 9, 2));
  const msh = [
    'MSH',
    enc,
    raw(m, m.field(0, 5)) || 'VITALWIRE',
    raw(m, m.field(0, 6)),
    raw(m, m.field(0, 3)),
    raw(m, m.field(0, 4)),
    ts,
    '',
    `ACK${cs}${trigger}${cs}ACK`,
    o.controlId,
    raw(m, m.field(0, 11)) || 'P',
    raw(m, m.field(0, 12)) || '2.6',
  ].join(fs);
  const msa = ['MSA', o.code, originalControlId].join(fs);
  let out = `${msh}\r${msa}\r`;
  if (o.code !== 'AA') {
    const err = o.hl7ErrorCode ?? (o.code === 'AR' ? 200 : 207);
    const name =
      err === 200 ? 'Unsupported message type' : err === 102 ? 'Data type error' : 'Application internal error';
    const text = (o.text ?? '').replace(/[\r\n|^~\\&]/g, ' ');
    out += ['ERR', '', '', `${err}${cs}${name}${cs}HL70357`, 'E', '', '', '', text].join(fs) + '\r';
  }
  return { message: out, originalControlId };
}

function bounds(m: Hl7Message, field: number, comp: number): [number, number] {
  const f = m.field(0, field);
  if (isEmpty(f)) return [0, 0];
  let start = spanStart(f);
  const end = spanEnd(f);
  for (let k = 1; k < comp; k++) {
    const next = m.buf.indexOf(m.delims.component, start);
    if (next === -1 || next >= end) return [0, 0];
    start = next + 1;
  }
  const stop = m.buf.indexOf(m.delims.component, start);
  return [start, stop === -1 || stop > end ? end : stop];
}
