// What the uplink publishes first after a (re)connect, made deterministic: the outbox's backlog reads are slowed down
// (a slow disk, the way the broker tests slow their persistence), so live records are always there before the backlog
// is read. A backlog under a second of replay goes first and every stream arrives in seq order (the end-to-end suite's
// seq check failed when monitor data stored before the first connect arrived after live data, issue 15); a longer one
// goes behind live numerics, but a live status still waits for the stored ones (issue 13: seq 1, 3, 2).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../lib/log.js';
import type { StreamKind } from '../lib/topics.js';
import { Outbox } from '../gateway/outbox/outbox.js';
import { startUplink, type Uplink } from '../gateway/publisher.js';
import { GATEWAY, Rig, SITE, until } from './chaos/harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let rig: Rig;
let box: Outbox | null = null;
let uplink: Uplink | null = null;
beforeEach(async () => {
  rig = new Rig('backlog-order');
  await rig.startBroker();
});
afterEach(async () => {
  await uplink?.close();
  await box?.close();
  await rig.close();
});

async function run(o: {
  replayMessagesPerSecond: number;
  stored: StreamKind[];
  live: StreamKind[];
  storedInWrite?: boolean;
}): Promise<{ kind: StreamKind; seq: number; backfill: boolean }[]> {
  const b = await Outbox.open({
    dir: join(rig.dir, 'outbox'),
    site: SITE,
    gateway: GATEWAY,
    quotaBytes: 64 << 20,
    segmentBytes: 1 << 20,
    commitDelayMs: o.storedInWrite ? 1000 : 1,
    commitMaxBytes: 1 << 20,
    logger: silentLogger(),
    ackFlushMs: 5,
  });
  box = b;
  const add = (kind: StreamKind) =>
    b.append({
      source: { site: SITE, gateway: GATEWAY, device: 'bed01' },
      kind,
      fromUs: 1,
      toUs: 1,
      retain: kind === 'status',
      body: kind === 'status' ? { statuses: [{ state: 2 }] } : { observations: [{ mdc: 147842, number: 60 }] },
    });
  // Stored before the connect: durable already, or (storedInWrite) still waiting for their group commit when it comes.
  if (!o.storedInWrite) for (const k of o.stored) await add(k);
  // A slow disk: every backlog read takes 150 ms, so the records stored at the connect are live before it returns.
  const take = b.takeBacklog.bind(b);
  b.takeBacklog = async (max) => {
    const recs = await take(max);
    await sleep(150);
    return recs;
  };
  const tls = { ca: readFileSync(rig.tls.ca), cert: readFileSync(rig.tls.cert), key: readFileSync(rig.tls.key) };
  uplink = startUplink({
    site: SITE,
    gateway: GATEWAY,
    urls: [rig.url],
    tls,
    keepaliveSeconds: 30,
    connectTimeoutMs: 5000,
    reconnect: { minMs: 100, maxMs: 1000 },
    inflightWindow: 64,
    maxMessagesPerSecond: 1000,
    replayMessagesPerSecond: o.replayMessagesPerSecond,
    outbox: b,
    logger: silentLogger(),
    nowUs: () => Date.now() * 1000,
    onConnect: () => {
      for (const k of o.live) void add(k);
    },
  });
  if (o.storedInWrite) for (const k of o.stored) void add(k);
  const total = o.stored.length + o.live.length;
  await until(() => rig.received.length >= total && b.depth() === 0, 'everything published and acknowledged', 20_000);
  return rig.received.map((r) => ({ kind: r.kind, seq: r.seq, backfill: r.backfill }));
}

const seqs = (rx: { kind: StreamKind; seq: number }[], kind: StreamKind) =>
  rx.filter((r) => r.kind === kind).map((r) => r.seq);

describe('uplink: order after a connect', () => {
  it('sends a backlog of under a second of replay before anything live: every stream in seq order', async () => {
    const rx = await run({
      replayMessagesPerSecond: 400,
      stored: ['obs', 'obs', 'status', 'obs', 'status'],
      live: ['obs', 'status', 'obs', 'status'],
    });
    expect(seqs(rx, 'obs')).toEqual([1, 2, 3, 4, 5]);
    expect(seqs(rx, 'status')).toEqual([1, 2, 3, 4]);
    expect(rx.map((r) => r.backfill)).toEqual([true, true, true, true, true, false, false, false, false]);
  });

  it('counts records appended before the connect but durable only after it as backlog too (sent first, as backfill)', async () => {
    // A group commit of a second: the uplink connects while the stored records wait for their fsync (on a loaded
    // machine, the monitor data of the end-to-end suite did).
    const rx = await run({
      replayMessagesPerSecond: 400,
      stored: ['obs', 'obs', 'status'],
      live: ['obs', 'status'],
      storedInWrite: true,
    });
    expect(rx.map((r) => [r.kind, r.seq, r.backfill])).toEqual([
      ['status', 1, true],
      ['obs', 1, true],
      ['obs', 2, true],
      ['obs', 3, false],
      ['status', 2, false],
    ]);
  });

  it('sends live numerics before a longer backlog, but a live status only after the stored statuses', async () => {
    // 2 msgs/s of replay: five stored records are more than a second's worth.
    const rx = await run({
      replayMessagesPerSecond: 2,
      stored: ['obs', 'obs', 'status', 'obs', 'status'],
      live: ['obs', 'status', 'obs', 'status'],
    });
    // Live numerics first (flagged apart from the backfill), then the stored ones, oldest first.
    expect(rx.filter((r) => r.kind === 'obs').map((r) => [r.seq, r.backfill])).toEqual([
      [4, false],
      [5, false],
      [1, true],
      [2, true],
      [3, true],
    ]);
    // The status stream keeps its order: the stored statuses (replayed first of the backlog) before the live ones.
    expect(rx.filter((r) => r.kind === 'status').map((r) => [r.seq, r.backfill])).toEqual([
      [1, true],
      [2, true],
      [3, false],
      [4, false],
    ]);
  });
});
