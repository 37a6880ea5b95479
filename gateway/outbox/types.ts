// The outbox's vocabulary: its three logs and what they hold, the record handed to the publisher, options and
// counters. Kept apart so the modules that only speak of records do not import the outbox itself.
import type { Logger } from '../../lib/log.js';
import type { StreamKind } from '../../lib/topics.js';
import { Kind, type IBatch, type ISource } from '../../proto/index.js';
import type { Segment } from './segment.js';

export type LogName = 'wave' | 'obs' | 'critical';
/** Shedding order when the quota is reached: oldest waveforms first, then numerics, alarms and status last. */
export const SHED_ORDER: readonly LogName[] = ['wave', 'obs', 'critical'];
export const LOG_OF: Readonly<Record<StreamKind, LogName>> = {
  wave: 'wave',
  obs: 'obs',
  alarm: 'critical',
  status: 'critical',
};
export const KIND_NUMBER: Readonly<Record<StreamKind, number>> = {
  obs: Kind.KIND_OBS,
  wave: Kind.KIND_WAVE,
  alarm: Kind.KIND_ALARM,
  status: Kind.KIND_STATUS,
};
export const KIND_NAME: Record<number, StreamKind> = {
  [Kind.KIND_OBS]: 'obs',
  [Kind.KIND_WAVE]: 'wave',
  [Kind.KIND_ALARM]: 'alarm',
  [Kind.KIND_STATUS]: 'status',
};

/** Durable records held in memory for the live path (default of OutboxOptions.maxLiveBytes). */
export const MAX_LIVE_BYTES = 16 * 1024 * 1024;

export type BatchBody = Pick<IBatch, 'observations' | 'waves' | 'alarms' | 'statuses' | 'gaps'>;

export interface AppendInput {
  source: ISource & { device: string };
  kind: StreamKind;
  /** Gateway-clock interval the batch covers. */
  fromUs: number;
  toUs: number;
  body: BatchBody;
  /** Publish retained when live (status). */
  retain?: boolean;
  /** Dedup reference of the input (HL7 MSH-10 + checksum). */
  ref?: string;
  /** Kept, never published: written to the dead-letter log without a seq (the whole of an item whose text was cut). */
  setAside?: boolean;
}

export interface OutRecord {
  readonly id: number;
  readonly seq: number;
  readonly device: string;
  readonly kind: StreamKind;
  /**
   * The encoded Batch, published as it is plus the backfill and publish-time fields, which the publisher writes into
   * the PUBLISH_TAIL_MAX bytes that follow it in the same buffer (`wire`, which starts with the payload).
   */
  readonly payload: Buffer;
  readonly wire: Buffer;
  readonly retain: boolean;
  readonly fromUs: number;
  readonly backfill: boolean;
  seg: Segment | null;
  index: number;
}

export interface OutboxOptions {
  dir: string;
  site: string;
  gateway: string;
  quotaBytes: number;
  segmentBytes: number;
  commitDelayMs: number;
  commitMaxBytes: number;
  logger: Logger;
  /** Durable records kept in memory for the live path; beyond it the oldest are read back from disk. */
  maxLiveBytes?: number;
  /** ACK records are written (without fsync) at most this long after the PUBACK. */
  ackFlushMs?: number;
  nowUs?: () => number;
  /**
   * The uplink's largest publish (publish.maxPacketBytes): a record whose publish would exceed it goes to the dead-letter
   * log instead of the queue, with a Gap (issue 14); at start, stored records over it are moved there. Absent: no limit.
   */
  maxPacketBytes?: number;
  /** Bytes the dead-letter log may keep; beyond it its oldest segments are deleted. Default DEAD_LETTER_BYTES. */
  deadLetterBytes?: number;
}

/** Default cap of the dead-letter log (outbox.deadLetterBytes). */
export const DEAD_LETTER_BYTES = 64 * 1024 * 1024;

export interface OutboxCounters {
  appendedRecords: number;
  appendedBytes: number;
  commits: number;
  fsyncs: number;
  writeErrors: number;
  acked: number;
  tornSegments: number;
  shedRecords: Record<StreamKind, number>;
  shedBytes: number;
  shedSegments: number;
  gaps: number;
  /** Times a sender that can wait (MLLP) was held for room near the quota (Outbox.room). */
  roomWaits: number;
  /** Records set aside because their publish would exceed maxPacketBytes, by kind (each with a Gap). */
  unsendable: Record<StreamKind, number>;
  /** Whole items kept beside a cut copy (AppendInput.setAside). */
  setAside: number;
  /** Dead-letter segments deleted over deadLetterBytes. */
  deadLetterDropped: number;
}
