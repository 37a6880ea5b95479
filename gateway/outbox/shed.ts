// What shedding a segment loses, as Gap ranges: per stream, each run of consecutive sequence numbers not yet
// acknowledged, with the gateway-time interval it covered.
import { readFile } from 'node:fs/promises';
import type { StreamKind } from '../../lib/topics.js';
import { Kind, type IGap } from '../../proto/index.js';
import { decodeDataHeader, REC_DATA, scanFrames } from './records.js';
import { ST_INFLIGHT, ST_PENDING, type Segment } from './segment.js';

const KIND_NAME: Record<number, StreamKind> = {
  [Kind.KIND_OBS]: 'obs',
  [Kind.KIND_WAVE]: 'wave',
  [Kind.KIND_ALARM]: 'alarm',
  [Kind.KIND_STATUS]: 'status',
};

export interface ShedReport {
  /** device -> gaps (reason left for the caller). */
  gaps: Map<string, IGap[]>;
  records: number;
  byKind: Partial<Record<StreamKind, number>>;
}

export async function gapsOfSegment(seg: Segment): Promise<ShedReport> {
  const buf = await readFile(seg.path);
  const open = new Map<string, IGap & { fromSeq: number; toSeq: number; fromTimeUs: number; toTimeUs: number }>();
  const gaps = new Map<string, IGap[]>();
  const byKind: Partial<Record<StreamKind, number>> = {};
  let records = 0;
  let i = 0;
  const close = (key: string, device: string) => {
    const g = open.get(key);
    if (!g) return;
    open.delete(key);
    let list = gaps.get(device);
    if (!list) gaps.set(device, (list = []));
    list.push(g);
  };
  scanFrames(buf.subarray(0, seg.size), (type, body) => {
    if (type !== REC_DATA) return;
    const index = i++;
    const st = seg.state[index];
    const h = decodeDataHeader(body)?.header;
    if (!h) return;
    const key = `${h.device}/${h.kind}`;
    if (st !== ST_PENDING && st !== ST_INFLIGHT) {
      close(key, h.device);
      return;
    }
    records++;
    const kindName = KIND_NAME[h.kind];
    if (kindName) byKind[kindName] = (byKind[kindName] ?? 0) + 1;
    const g = open.get(key);
    if (g && h.seq === g.toSeq + 1) {
      g.toSeq = h.seq;
      g.toTimeUs = Math.max(g.toTimeUs, h.toUs);
      return;
    }
    close(key, h.device);
    open.set(key, { kind: h.kind, fromSeq: h.seq, toSeq: h.seq, fromTimeUs: h.fromUs, toTimeUs: h.toUs });
  });
  for (const key of [...open.keys()]) close(key, key.slice(0, key.lastIndexOf('/')));
  return { gaps, records, byKind };
}
