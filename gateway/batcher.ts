// Batching per device and kind: decoded payloads collect in one open batch per stream until its interval ends
// (numerics each second, waveform chunks each 250 ms by default; 0 = at once) or it reaches maxBatchBytes, then go to
// the outbox as one Batch. commit() closes every open batch now and resolves when all of the device's batches so far
// are durable: the MLLP listener acknowledges after it.
import type { StreamKind } from '../lib/topics.js';
import type { IAlarm, IObservation, IWaveformChunk } from '../proto/index.js';
import type { BatchBody } from './outbox/outbox.js';

export interface BatchingOptions {
  obsMs: number;
  waveMs: number;
  alarmMs: number;
  maxBatchBytes: number;
}

/** Stores one closed batch; resolves when durable. */
export type BatchSink = (kind: StreamKind, body: BatchBody, fromUs: number, toUs: number, ref: string | undefined) => Promise<unknown>;

type DataKind = 'obs' | 'wave' | 'alarm';

interface Open {
  items: (IObservation | IWaveformChunk | IAlarm)[];
  bytes: number;
  fromUs: number;
  toUs: number;
  timer: NodeJS.Timeout | null;
}

// Rough encoded sizes, to close a batch before it grows past maxBatchBytes.
const OBS_BYTES = 64;
const WAVE_BYTES = 48;
const SAMPLE_BYTES = 3;
const ALARM_BYTES = 96;

export class DeviceBatcher {
  private readonly open: Record<DataKind, Open | null> = { obs: null, wave: null, alarm: null };
  private readonly outstanding = new Set<Promise<unknown>>();
  private failures = 0;

  constructor(
    private readonly o: BatchingOptions,
    private readonly sink: BatchSink,
    private readonly onError: (err: unknown) => void,
  ) {}

  private intervalOf(kind: DataKind): number {
    return kind === 'obs' ? this.o.obsMs : kind === 'wave' ? this.o.waveMs : this.o.alarmMs;
  }

  add(kind: DataKind, items: readonly (IObservation | IWaveformChunk | IAlarm)[], rxUs: number): void {
    if (items.length === 0) return;
    let b = this.open[kind];
    if (!b) {
      b = this.open[kind] = { items: [], bytes: 0, fromUs: rxUs, toUs: rxUs, timer: null };
      const ms = this.intervalOf(kind);
      if (ms > 0) b.timer = setTimeout(() => this.close(kind), ms);
    }
    for (const it of items) {
      b.items.push(it);
      b.bytes += kind === 'obs' ? OBS_BYTES : kind === 'alarm' ? ALARM_BYTES : WAVE_BYTES + ((it as IWaveformChunk).samples?.length ?? 0) * SAMPLE_BYTES;
    }
    b.toUs = Math.max(b.toUs, rxUs);
    if (this.intervalOf(kind) === 0 || b.bytes >= this.o.maxBatchBytes) this.close(kind);
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
    const body: BatchBody = kind === 'obs' ? { observations: b.items as IObservation[] } : kind === 'wave' ? { waves: b.items as IWaveformChunk[] } : { alarms: b.items as IAlarm[] };
    void this.track(this.sink(kind, body, b.fromUs, b.toUs, ref));
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
  }
}
