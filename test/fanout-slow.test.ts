// Slow dashboards: a client that stops reading gets numerics coalesced, old waveform chunks replaced by Gap
// markers and every alarm; the other clients get everything meanwhile; a client stuck for good is closed.
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFanout, type Fanout } from '../fanout/server.js';
import { silentLogger } from '../lib/log.js';
import { GapReason, Kind } from '../proto/index.js';
import { ecg, hr, publish, startRig, type FanoutRig } from './fanout-kit.js';
import { connectWs, waitFor, type Received, type WsSession } from './ws-client.js';

const BIG = 4000; // samples per chunk: ~10 kB Batches, so socket buffers fill quickly
const N = 600; // wave chunks
// The test client's TCP socket, paused to play a slow reader: ws offers no public handle on it (test code only).
// eslint-disable-next-line no-restricted-syntax
const socketOf = (s: WsSession): Socket => (s.ws as unknown as { _socket: Socket })._socket;
const seqsOf = (rs: Received[], kind: number): number[] =>
  rs.filter((r) => r.batch.kind === kind && Number(r.batch.seq) > 0).map((r) => Number(r.batch.seq));
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function pump(rig: FanoutRig): Promise<{ obs: number; alarms: number }> {
  let obs = 0;
  let alarms = 0;
  const pending: Promise<unknown>[] = [];
  for (let i = 1; i <= N; i++) {
    pending.push(publish(rig.gw, 'bed01', 'wave', i, ecg(i * BIG, BIG)));
    if (i % 10 === 0) pending.push(publish(rig.gw, 'bed01', 'obs', ++obs, hr(60 + (i % 40))));
    if (i % 100 === 0) {
      alarms++;
      pending.push(
        publish(rig.gw, 'bed01', 'alarm', alarms, {
          alarms: [{ id: `a${alarms}`, text: 'HR HIGH', priority: 4, state: 2 }],
        }),
      );
    }
    if (pending.length >= 40) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  return { obs, alarms };
}

describe('slow dashboard clients', () => {
  let rig: FanoutRig;
  let f: Fanout;

  beforeAll(async () => {
    rig = await startRig();
    f = await startFanout({
      broker: rig.central.broker.aedes,
      port: 0,
      users: rig.users,
      logger: silentLogger(),
      limits: {
        queue: { maxQueuedBytes: 256 << 10, maxAlarmBacklogBytes: 1 << 20, maxMessageBytes: 64 << 10 },
        sendThresholdBytes: 64 << 10,
        stuckMs: 60_000,
      },
    });
  });
  afterAll(async () => {
    await f?.close();
    await rig?.close();
  });

  it('coalesces numerics, drops old waves behind Gap markers, keeps every alarm, and never slows the others', async () => {
    const token = (await f.sessions.issue({ name: 'obsall', role: 'observer', sites: ['*'] })).token;
    const fast = await connectWs(f.url, token, undefined, { subscribe: ['site1/gw1/bed01'] });
    const slow = await connectWs(f.url, token, undefined, { subscribe: ['site1/gw1/bed01'] });
    await waitFor(
      () => fast.control.some((m) => m.type === 'subscribed') && slow.control.some((m) => m.type === 'subscribed'),
      5000,
      'both subscribed',
    );
    socketOf(slow).pause(); // stops reading: the kernel buffers fill, then the fan-out's
    const sent = await pump(rig);

    // The fast client gets every Batch, in order, while the slow one is stuck.
    await waitFor(() => seqsOf(fast.received, Kind.KIND_WAVE).length === N, 30_000, 'fast: every wave chunk');
    await waitFor(
      () =>
        seqsOf(fast.received, Kind.KIND_ALARM).length === sent.alarms &&
        seqsOf(fast.received, Kind.KIND_OBS).length === sent.obs,
      10_000,
      'fast: all',
    );
    expect(seqsOf(fast.received, Kind.KIND_WAVE)).toEqual(range(1, N));
    expect(seqsOf(fast.received, Kind.KIND_OBS)).toEqual(range(1, sent.obs));
    expect(fast.received.some((r) => r.batch.gaps.length > 0)).toBe(false);
    expect(f.counters.droppedWaves).toBeGreaterThan(0);
    expect(f.counters.coalesced).toBeGreaterThan(0);

    socketOf(slow).resume();
    await waitFor(
      () =>
        seqsOf(slow.received, Kind.KIND_OBS).at(-1) === sent.obs &&
        seqsOf(slow.received, Kind.KIND_ALARM).length === sent.alarms,
      30_000,
      'slow: drained',
    );
    // Every alarm, in order.
    expect(seqsOf(slow.received, Kind.KIND_ALARM)).toEqual(range(1, sent.alarms));
    // Waves: each chunk arrived, or lies in exactly one slow-client Gap, in order; some were dropped.
    const covered: number[] = [];
    let gaps = 0;
    for (const r of slow.received) {
      if (r.batch.kind !== Kind.KIND_WAVE) continue;
      if (Number(r.batch.seq) > 0) covered.push(Number(r.batch.seq));
      for (const g of r.batch.gaps) {
        expect(g.reason).toBe(GapReason.GAP_REASON_SLOW_CLIENT);
        gaps++;
        covered.push(...range(Number(g.fromSeq), Number(g.toSeq)));
      }
    }
    expect(gaps).toBeGreaterThan(0);
    expect(covered).toEqual(range(1, N));
    // Numerics: the newest arrived; the ones skipped are declared, never silently missing.
    const obsCovered: number[] = [];
    for (const r of slow.received) {
      if (r.batch.kind !== Kind.KIND_OBS) continue;
      if (Number(r.batch.seq) > 0) obsCovered.push(Number(r.batch.seq));
      for (const g of r.batch.gaps) obsCovered.push(...range(Number(g.fromSeq), Number(g.toSeq)));
    }
    expect(obsCovered).toEqual(range(1, sent.obs));
    expect(seqsOf(slow.received, Kind.KIND_OBS).length).toBeLessThan(sent.obs);
    fast.ws.close();
    slow.ws.close();
  });

  it('closes a client that stays stuck, with a reason, and counts it', async () => {
    const g = await startFanout({
      broker: rig.central.broker.aedes,
      port: 0,
      users: rig.users,
      logger: silentLogger(),
      limits: {
        queue: { maxQueuedBytes: 256 << 10, maxAlarmBacklogBytes: 1 << 20, maxMessageBytes: 64 << 10 },
        sendThresholdBytes: 64 << 10,
        stuckMs: 500,
      },
    });
    try {
      const token = (await g.sessions.issue({ name: 'obsall', role: 'observer', sites: ['*'] })).token;
      const stuck = await connectWs(g.url, token, undefined, { subscribe: ['site1/gw1/bed01'] });
      const ok = await connectWs(g.url, token, undefined, { subscribe: ['site1/gw1/bed01'] });
      await waitFor(
        () => stuck.control.some((m) => m.type === 'subscribed') && ok.control.some((m) => m.type === 'subscribed'),
        5000,
        'subscribed',
      );
      socketOf(stuck).pause();
      const closed = new Promise<void>((resolve) => stuck.ws.once('close', () => resolve()));
      await pump(rig);
      await waitFor(() => g.counters.slowClosed >= 1, 30_000, 'the stuck client closed');
      socketOf(stuck).resume(); // reads what is left: the close frame or the reset
      await closed;
      expect(ok.ws.readyState).toBe(ok.ws.OPEN); // the other client stays
      ok.ws.close();
    } finally {
      await g.close();
    }
  });
});
