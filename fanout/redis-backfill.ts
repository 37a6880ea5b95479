// Backfill shared by clustered fan-outs through Redis Streams. Every fan-out sees every Batch (the brokers share
// traffic over Redis pub/sub), so each keeps its own memory ring; Redis is what a fan-out that started less than
// one window ago reads, so a dashboard that lands on a fresh instance still gets its history.
//
// One writer per Batch: the fan-out beside the broker the gateway published to (packet.brokerId is that broker's
// id). Key `<prefix><site>/<gateway>/<device>/<kind>`, entry id from Redis' clock (ms), fields s (seq), p
// (publish time us), f (1 when Batch.backfill), b (the delimited bytes). Bounded: XADD MAXLEN ~ per kind, and PEXPIRE so a stream of a
// device that went away disappears.
import { Redis } from 'ioredis';
import type { StreamName } from './protocol.js';
import type { RingLimits, StreamItem } from './ring.js';

export interface SharedBackfill {
  /** Fire and forget; failures are counted. */
  append(item: StreamItem): void;
  /** Items of one stream received at or after fromMs, oldest first, at most maxItems (the newest ones). */
  read(stream: string, fromMs: number, maxItems: number): Promise<StreamItem[]>;
  readonly counters: { appended: number; appendErrors: number; reads: number; readErrors: number };
  close(): Promise<void>;
}

export interface RedisBackfillOptions {
  url: string;
  prefix?: string;
  limits: RingLimits;
  connectTimeoutMs?: number;
}

export async function createRedisBackfill(o: RedisBackfillOptions): Promise<SharedBackfill> {
  const prefix = o.prefix ?? 'vw:fanout:';
  const redis = new Redis(o.url, {
    enableAutoPipelining: true,
    maxRetriesPerRequest: 2,
    lazyConnect: true,
    connectTimeout: o.connectTimeoutMs ?? 10_000,
  });
  redis.on('error', () => undefined); // counted per command below; ioredis reconnects by itself
  await redis.connect();
  const counters = { appended: 0, appendErrors: 0, reads: 0, readErrors: 0 };
  return {
    counters,
    append(item) {
      const k = o.limits.kinds[item.kind];
      const key = prefix + item.stream;
      redis
        .multi()
        .xadd(
          key,
          'MAXLEN',
          '~',
          String(k.maxItems),
          '*',
          's',
          String(item.seq),
          'p',
          String(item.publishTimeUs),
          'f',
          item.backfill ? '1' : '0',
          'b',
          item.bytes,
        )
        .pexpire(key, k.retainMs * 2)
        .exec()
        .then(
          (r) => {
            if (r?.some(([err]) => err)) counters.appendErrors++;
            else counters.appended++;
          },
          () => counters.appendErrors++,
        );
    },
    async read(stream, fromMs, maxItems) {
      counters.reads++;
      const kind = stream.slice(stream.lastIndexOf('/') + 1) as StreamName;
      const bed = stream.slice(0, stream.lastIndexOf('/'));
      let rows: [Buffer, Buffer[]][];
      try {
        // Newest first with COUNT, so a long history is cut at its old end, then put back in order.
        rows = (await redis.xrevrangeBuffer(
          prefix + stream,
          '+',
          String(Math.max(0, Math.floor(fromMs))),
          'COUNT',
          maxItems,
        )) as [Buffer, Buffer[]][];
      } catch (err) {
        counters.readErrors++;
        throw err;
      }
      const out: StreamItem[] = [];
      for (let i = rows.length - 1; i >= 0; i--) {
        const [id, fields] = rows[i] as [Buffer, Buffer[]];
        let seq = 0;
        let pub = 0;
        let bytes: Buffer | undefined;
        let backfill = false;
        for (let f = 0; f + 1 < fields.length; f += 2) {
          const name = (fields[f] as Buffer).toString();
          const v = fields[f + 1] as Buffer;
          if (name === 's') seq = Number(v.toString());
          else if (name === 'p') pub = Number(v.toString());
          else if (name === 'b') bytes = v;
          else if (name === 'f') backfill = v.toString() === '1';
        }
        if (!bytes || !Number.isFinite(seq)) continue;
        out.push({
          stream,
          bed,
          kind,
          seq,
          atMs: Number(id.toString().split('-')[0]),
          publishTimeUs: pub,
          bytes,
          ...(backfill ? { backfill } : {}),
        });
      }
      return out;
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
