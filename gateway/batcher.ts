// Batching per device and kind: decoded payloads collect in one open batch per stream until its interval ends
// (numerics each second, waveform chunks each 250 ms by default; 0 = at once) or the next item would take its encoded
// items past maxBatchBytes, then go to the outbox as one Batch. Sizes are exact (the contract's sizing pass, once per
// item), so a batch never grows past the limit: issue 14, where an estimate of 64 B per observation (real: ~154 B)
// and none for text let one message become a Batch the broker refused. An item that alone exceeds the limit is made
// to fit (gateway/fit.ts): a waveform split, a text cut (the whole item set aside in the outbox's dead-letter log), or,
// when nothing can be cut, handed on alone. commit() closes every open batch now and resolves when all of the device's
// batches so far are durable: the MLLP listener acknowledges after it.
import type { Logger } from '../lib/log.js';
import { createLogLimiter, type LogLimiter } from '../lib/log-limiter.js';
import type { StreamKind } from '../lib/topics.js';
import type { IAlarm, IObservation, IWaveformChunk } from '../proto/index.js';
import { fitItem, itemBytes, type DataKind, type Item } from './fit.js';
import type { BatchBody } from './outbox/outbox.js';

export interface BatchingOptions {
  obsMs: number;
  waveMs: number;
  alarmMs: number;
  maxBatchBytes: number;
}

/**
 * Stores one closed batch; resolves when durable. `setAside`: not for publishing, only kept (the whole of an item
 * whose text was cut: the outbox writes it to its dead-letter log, with no seq).
 */
export type BatchSink = (
  kind: StreamKind,
  body: BatchBody,
  fromUs: number,
  toUs: number,
  ref: string | undefined,
  setAside?: boolean,
) => Promise<unknown>;

interface Open {
  items: Item[];
  /** Exact encoded bytes of the items (each with its field tag and length). */
  bytes: number;
  fromUs: number;
  toUs: number;
  timer: NodeJS.Timeout | null;
}

export interface BatcherCounters {
  /** Waveform chunks split into shorter ones (nothing lost). */
  split: number;
  /** Items whose text was cut (FLAG_QUESTIONABLE, VW_ERR_TEXT_TRUNCATED). */
  truncated: number;
  /** Items over the limit that nothing could be cut from: handed on alone (the outbox sets aside what it cannot send). */
  whole: number;
}

export class DeviceBatcher {
  readonly counters: BatcherCounters = { split: 0, truncated: 0, whole: 0 };
  private readonly open: Record<DataKind, Open | null> = { obs: null, wave: null, alarm: null };
  private readonly outstanding = new Set<Promise<unknown>>();
  private failures = 0;
  private readonly limited: LogLimiter | null;

  constructor(
    private readonly o: BatchingOptions,
    private readonly sink: BatchSink,
    private readonly onError: (err: unknown) => void,
    logger?: Logger,
  ) {
    this.limited = logger ? createLogLimiter({ logger }) : null;
  }

  private intervalOf(kind: DataKind): number {
    return kind === 'obs' ? this.o.obsMs : kind === 'wave' ? this.o.waveMs : this.o.alarmMs;
  }

  private openBatch(kind: DataKind, rxUs: number): Open {
    const b: Open = { items: [], bytes: 0, fromUs: rxUs, toUs: rxUs, timer: null };
    this.open[kind] = b;
    const ms = this.intervalOf(kind);
    if (ms > 0) b.timer = setTimeout(() => this.close(kind), ms);
    return b;
  }

  private push(kind: DataKind, it: Item, bytes: number, rxUs: number): void {
    let b = this.open[kind];
    // The next item would take the batch past the limit: the batch goes as it is, the item starts the next one.
    if (b && b.items.length > 0 && b.bytes + bytes > this.o.maxBatchBytes) {
      this.close(kind);
      b = null;
    }
    b ??= this.openBatch(kind, rxUs);
    b.items.push(it);
    b.bytes += bytes;
    b.toUs = Math.max(b.toUs, rxUs);
  }

  add(kind: DataKind, items: readonly (IObservation | IWaveformChunk | IAlarm)[], rxUs: number): void {
    if (items.length === 0) return;
    const max = this.o.maxBatchBytes;
    for (const it of items) {
      const bytes = itemBytes(kind, it);
      if (bytes <= max) {
        this.push(kind, it, bytes, rxUs);
        continue;
      }
      const fit = fitItem(kind, it, max);
      this.fitted(kind, fit.action, bytes, fit.pieces.length);
      if (fit.action === 'truncated') {
        // The whole item is kept, not published: what was cut is not lost.
        void this.track(this.sink(kind, kindBody(kind, [it]), rxUs, rxUs, undefined, true));
      }
      for (const p of fit.pieces) this.push(kind, p, fit.action === 'whole' ? bytes : itemBytes(kind, p), rxUs);
    }
    const b = this.open[kind];
    if (b && (this.intervalOf(kind) === 0 || b.bytes >= max)) this.close(kind);
  }

  private fitted(kind: DataKind, action: 'split' | 'truncated' | 'whole', bytes: number, pieces: number): void {
    this.counters[action]++;
    const max = this.o.maxBatchBytes;
    // Device ids, kinds and sizes only: never the item's values or text.
    if (action === 'split')
      this.limited?.log(
        `split:${kind}`,
        'info',
        { kind, bytes, max, pieces },
        'waveform chunk over maxBatchBytes: split',
      );
    else if (action === 'truncated')
      this.limited?.log(
        `cut:${kind}`,
        'warn',
        { code: 'VW_ERR_TEXT_TRUNCATED', kind, bytes, max },
        'text over maxBatchBytes: cut, flagged questionable, the whole item set aside',
      );
    else
      this.limited?.log(
        `whole:${kind}`,
        'warn',
        { kind, bytes, max },
        'item over maxBatchBytes that nothing can be cut from: batched alone',
      );
  }

  /** Stores a batch that is not batched (status, gaps) right away. */
  put(kind: StreamKind, body: BatchBody, fromUs: number, toUs: number, ref?: string): Promise<unknown> {
    return this.track(this.sink(kind, body, fromUs, toUs, ref));
  }

  private track(p: Promise<unknown>): Promise<unknown> {
    this.outstanding.add(p);
    const done = () => this.outstanding.delete(p);
    p.then(done, (err: unknown) => {
      done();
      this.failures++;
      this.onError(err);
    });
    return p;
  }

  private close(kind: DataKind, ref?: string): void {
    const b = this.open[kind];
    if (!b) return;
    this.open[kind] = null;
    if (b.timer) clearTimeout(b.timer);
    void this.track(this.sink(kind, kindBody(kind, b.items), b.fromUs, b.toUs, ref));
  }

  /**
   * Closes every open batch (tagging them with `ref`) and resolves when every batch of this device so far is durable;
   * rejects when any of them could not be stored.
   */
  async commit(ref?: string): Promise<void> {
    this.close('alarm', ref);
    this.close('obs', ref);
    this.close('wave', ref);
    await Promise.all([...this.outstanding]);
  }

  /** Closes open batches (shutdown) and waits for what was outstanding; failures were already reported. */
  async flush(): Promise<void> {
    await this.commit().catch(() => undefined);
    this.limited?.flush();
  }
}

function kindBody(kind: DataKind, items: Item[]): BatchBody {
  return kind === 'obs'
    ? { observations: items as IObservation[] }
    : kind === 'wave'
      ? { waves: items as IWaveformChunk[] }
      : { alarms: items as IAlarm[] };
}
