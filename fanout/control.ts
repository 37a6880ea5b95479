// Control messages from a dashboard: JSON text, one op each (protocol.ts). Sans-I/O: bytes in, a validated op or
// the reason it is refused (VW_ERR_WS_BAD_REQUEST) out. Sizes are capped before this by the ws maxPayload.
import { STREAMS, type BackfillRequest, type ClientOp, type StreamName } from './protocol.js';

export function parseControl(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): ClientOp | { error: string } {
  if (isBinary) return { error: 'control messages are JSON text' };
  const text = Buffer.isBuffer(data)
    ? data.toString('utf8')
    : Array.isArray(data)
      ? Buffer.concat(data).toString('utf8')
      : Buffer.from(data).toString('utf8');
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return { error: 'not JSON' };
  }
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return { error: 'not an object' };
  const msg = m as Record<string, unknown>;
  switch (msg['op']) {
    case 'subscribe': {
      const streams = msg['streams'];
      if (
        streams !== undefined &&
        (!Array.isArray(streams) || !streams.every((s) => (STREAMS as readonly unknown[]).includes(s)))
      ) {
        return { error: `streams must be a subset of ${STREAMS.join(',')}` };
      }
      const b = msg['backfill'];
      return {
        op: 'subscribe',
        bed: String(msg['bed']).slice(0, 256),
        ...(streams !== undefined ? { streams: streams as StreamName[] } : {}),
        ...(typeof b === 'object' && b !== null ? { backfill: pickBackfill(b as Record<string, unknown>) } : {}),
      };
    }
    case 'unsubscribe':
      return { op: 'unsubscribe', bed: String(msg['bed']).slice(0, 256) };
    case 'renew': {
      const token = msg['token'];
      return typeof token === 'string' ? { op: 'renew', token } : { error: 'renew needs a token' };
    }
    default:
      return { error: 'unknown op' };
  }
}

function pickBackfill(b: Record<string, unknown>): BackfillRequest {
  const out: BackfillRequest = {};
  for (const k of ['obsMs', 'waveMs', 'alarmMs'] as const) {
    const v = b[k];
    if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  }
  if (b['obsLatest'] === true) out.obsLatest = true;
  return out;
}
