// Items that do not fit a Batch of the batcher's limit (gateway/batcher.ts), sans-I/O: a waveform chunk is split into
// shorter chunks (each with its own first_sample and time, so consumers splice them as they splice any two chunks); a
// free text is cut at a UTF-8 character boundary and the item flagged FLAG_QUESTIONABLE (its value is not all the device
// said); anything else cannot be cut without changing what it is, and is handed on whole (the outbox sets it aside when
// it exceeds the publish limit, with a Gap). Sizes are exact: the contract's own sizing pass (proto/encode-batch.ts).
import { batchSize } from '../proto/encode-batch.js';
import { Flag, type IAlarm, type IBatch, type IObservation, type IWaveformChunk } from '../proto/index.js';

export type DataKind = 'obs' | 'wave' | 'alarm';
export type Item = IObservation | IWaveformChunk | IAlarm;

// One reused one-item Batch per kind: sizing an item allocates nothing.
const one: Record<DataKind, IBatch> = { obs: { observations: [] }, wave: { waves: [] }, alarm: { alarms: [] } };

/** Exact bytes the item adds to an encoded Batch: its field tag, length prefix and body. */
export function itemBytes(kind: DataKind, item: Item): number {
  const b = one[kind];
  const list = (kind === 'obs' ? b.observations : kind === 'wave' ? b.waves : b.alarms) as Item[];
  list[0] = item;
  const n = batchSize(b);
  list.length = 0; // hold no reference to the item
  return n;
}

export type FitAction = 'split' | 'truncated' | 'whole';

export interface Fitted {
  /** What goes into Batches instead of the item, each at most the limit (except when `action` is 'whole'). */
  pieces: Item[];
  /** split: a waveform in shorter chunks (lossless); truncated: text cut; whole: nothing could be cut. */
  action: FitAction;
}

/** An item larger than `maxBytes` (itemBytes), made to fit where its kind allows. */
export function fitItem(kind: DataKind, item: Item, maxBytes: number): Fitted {
  if (kind === 'wave') {
    const pieces = splitWave(item as IWaveformChunk, maxBytes);
    if (pieces) return { pieces, action: 'split' };
  } else {
    const cut = cutText(kind, item as IObservation | IAlarm, maxBytes);
    if (cut) return { pieces: [cut], action: 'truncated' };
  }
  return { pieces: [item], action: 'whole' };
}

/** Chunk `w` from sample `off`, `k` samples long: the index and the device time of its own first sample. */
function wavePiece(w: IWaveformChunk, off: number, k: number): IWaveformChunk {
  const rate = w.sampleRateHz ?? 0;
  const t = w.time;
  // vitals.proto WaveformChunk.time is the timing of the first sample: the device time moves on by off / rate.
  const time =
    t && off > 0 && rate > 0 && t.deviceTimeUs
      ? { ...t, deviceTimeUs: t.deviceTimeUs + Math.round((off / rate) * 1e6) }
      : t;
  return {
    ...w,
    samples: (w.samples ?? []).slice(off, off + k),
    firstSample: (w.firstSample ?? 0) + off,
    ...(time ? { time } : {}),
  };
}

/** Consecutive chunks of at most maxBytes each, covering every sample once; null when not even one sample fits. */
export function splitWave(w: IWaveformChunk, maxBytes: number): IWaveformChunk[] | null {
  const n = w.samples?.length ?? 0;
  const empty = itemBytes('wave', { ...w, samples: [] });
  // Beside the rest of the chunk: the samples field (tag and length, at most 6 bytes) and one sample (at most 5).
  const room = maxBytes - empty - 6;
  if (n < 2 || room < 5) return null;
  const perSample = Math.max(1, (itemBytes('wave', w) - empty) / n); // average wire bytes of a sample
  const pieces: IWaveformChunk[] = [];
  for (let off = 0; off < n;) {
    let k = Math.min(n - off, Math.max(1, Math.floor(room / perSample)));
    let piece = wavePiece(w, off, k);
    // Samples vary in size (zigzag varints): a run of large ones may not fit the average; shrink until it does.
    while (k > 1 && itemBytes('wave', piece) > maxBytes) {
      k = Math.max(1, Math.floor(k * 0.9));
      piece = wavePiece(w, off, k);
    }
    pieces.push(piece);
    off += k;
  }
  return pieces;
}

/** A UTF-8 prefix of `s` of at most `max` bytes, cut before a character, never inside one. */
export function utf8Prefix(s: string, max: number): string {
  const b = Buffer.from(s, 'utf8');
  if (b.length <= max) return s;
  let end = Math.max(0, max);
  while (end > 0 && ((b[end] ?? 0) & 0xc0) === 0x80) end--; // a continuation byte: back to its lead byte
  return b.toString('utf8', 0, end);
}

/** The item with its free text cut to fit, flagged questionable; null when it has no text or is too big without it. */
function cutText<T extends IObservation | IAlarm>(kind: DataKind, item: T, maxBytes: number): T | null {
  const text = item.text;
  if (!text) return null;
  const without = itemBytes(kind, { ...item, text: '' });
  // The text field: a tag (1 byte) and a length (at most 3 bytes for a text under 2 MB).
  let room = maxBytes - without - 4;
  if (room <= 0) return null;
  for (;;) {
    const cut = { ...item, text: utf8Prefix(text, room), flags: (item.flags ?? 0) | Flag.FLAG_QUESTIONABLE };
    const over = itemBytes(kind, cut) - maxBytes;
    if (over <= 0) return cut;
    room -= over; // flags may have grown a byte; the length prefix is already counted at its largest
  }
}
