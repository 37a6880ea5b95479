// Backfill on subscribe: a bed opened late gets its recent history, then live data, with no seam (every seq once,
// in order), from the fan-out's memory rings, or from Redis when a clustered fan-out has only just started.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startBroker } from '../broker/broker.js';
import { startFanout } from '../fanout/server.js';
import { silentLogger } from '../lib/log.js';
import { Kind } from '../proto/index.js';
import { ecg, hr, publish, startRig, type FanoutRig } from './fanout-kit.js';
import { connectWs, waitFor, type Received } from './ws-client.js';

const seqs = (rs: Received[], device: string, kind: number): number[] =>
  rs.filter((r) => r.batch.source?.device === device && r.batch.kind === kind).map((r) => Number(r.batch.seq));

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('backfill from the memory rings', () => {
  let rig: FanoutRig;
  let clock = Date.now();

  beforeAll(async () => {
    rig = await startRig({ now: () => clock });
    // 60 ECG chunks of 256 ms (15.4 s) and 30 numerics, the fan-out's clock moving with them.
    for (let i = 1; i <= 60; i++) {
      clock += 256;
      await publish(rig.gw, 'bed01', 'wave', i, ecg((i - 1) * 64));
      if (i % 2 === 0) await publish(rig.gw, 'bed01', 'obs', i / 2, hr(60 + i));
    }
    await waitFor(() => rig.fanout.counters.messagesIn >= 90, 10_000, '90 Batches in');
  });
  afterAll(() => rig?.close());

  const token = async (): Promise<string> =>
    (await rig.fanout.sessions.issue({ name: 'obsall', role: 'observer', sites: ['*'] })).token;

  it('sends the last 10 s of waves and the numerics history, then live data with no seam', async () => {
    const s = await connectWs(rig.fanout.url, await token(), undefined, { subscribe: ['site1/gw1/bed01'] });
    const sub = await waitFor(() => s.control.find((m) => m.type === 'subscribed'), 5000, 'subscribed');
    // 10 s of 256 ms chunks, counted back from the newest.
    const waves = await waitFor(
      () => seqs(s.received, 'bed01', Kind.KIND_WAVE).length >= 39 && seqs(s.received, 'bed01', Kind.KIND_WAVE),
      5000,
      'wave history',
    );
    expect(waves.at(-1)).toBe(60);
    expect(waves).toEqual(range(waves[0]!, 60));
    expect(waves.length).toBeGreaterThanOrEqual(39);
    expect(waves.length).toBeLessThanOrEqual(41);
    expect(seqs(s.received, 'bed01', Kind.KIND_OBS)).toEqual(range(1, 30));
    expect(sub).toMatchObject({
      backfill: { wave: { items: waves.length, stride: 1, toSeq: 60 }, obs: { items: 30, stride: 1, toSeq: 30 } },
    });
    for (let i = 61; i <= 65; i++) await publish(rig.gw, 'bed01', 'wave', i, ecg((i - 1) * 64));
    await waitFor(() => seqs(s.received, 'bed01', Kind.KIND_WAVE).at(-1) === 65, 5000, 'live waves');
    expect(seqs(s.received, 'bed01', Kind.KIND_WAVE)).toEqual(range(waves[0]!, 65));
    // The bytes are the gateway's: first_sample and samples arrive as published.
    const last = s.received.filter((r) => r.batch.kind === Kind.KIND_WAVE).at(-1)!;
    expect(Number(last.batch.waves[0]!.firstSample)).toBe(64 * 64);
    s.ws.close();
  });

  it('honours a shorter window from the client: the newest numerics only, 2 s of waves', async () => {
    const s = await connectWs(rig.fanout.url, await token(), undefined, {
      subscribe: ['site1/gw1/bed01'],
      backfill: { obsMs: 0, waveMs: 2000 },
    });
    await waitFor(() => s.control.find((m) => m.type === 'subscribed'), 5000, 'subscribed');
    await waitFor(() => seqs(s.received, 'bed01', Kind.KIND_OBS).length >= 1, 5000, 'one numerics Batch');
    expect(seqs(s.received, 'bed01', Kind.KIND_OBS)).toEqual([30]);
    // Received within 2 s of the fan-out's clock: chunks 53-60 (256 ms apart) and 61-65 (after the clock stopped).
    await waitFor(() => seqs(s.received, 'bed01', Kind.KIND_WAVE).at(-1) === 65, 5000, 'wave history');
    expect(seqs(s.received, 'bed01', Kind.KIND_WAVE)).toEqual(range(53, 65));
    s.ws.close();
  });

  it('forwards a QoS 1 repeat once', async () => {
    const s = await connectWs(rig.fanout.url, await token(), undefined, { subscribe: ['site1/gw1/bed03'] });
    await waitFor(() => s.control.find((m) => m.type === 'subscribed'), 5000, 'subscribed');
    const dupsBefore = rig.fanout.counters.duplicates;
    await publish(rig.gw, 'bed03', 'obs', 1, hr(70));
    await publish(rig.gw, 'bed03', 'obs', 1, hr(70)); // the gateway resent it
    await publish(rig.gw, 'bed03', 'obs', 2, hr(71));
    await waitFor(() => seqs(s.received, 'bed03', Kind.KIND_OBS).includes(2), 5000, 'seq 2');
    expect(seqs(s.received, 'bed03', Kind.KIND_OBS)).toEqual([1, 2]);
    expect(rig.fanout.counters.duplicates).toBe(dupsBefore + 1);
    s.ws.close();
  });

  it('has no seam when a bed is opened while its data streams in', async () => {
    let seq = 0;
    let streaming = true;
    const pump = (async () => {
      while (streaming) {
        seq++;
        await publish(rig.gw, 'bed02', 'wave', seq, ecg(seq * 64));
      }
    })();
    await waitFor(() => seq >= 20, 5000, 'stream running');
    const s = await connectWs(rig.fanout.url, await token(), undefined, { subscribe: ['site1/gw1/bed02'] });
    await waitFor(() => seqs(s.received, 'bed02', Kind.KIND_WAVE).length >= 40, 10_000, 'history and live data');
    streaming = false;
    await pump;
    await waitFor(() => seqs(s.received, 'bed02', Kind.KIND_WAVE).at(-1) === seq, 5000, 'the last one');
    const got = seqs(s.received, 'bed02', Kind.KIND_WAVE);
    expect(got).toEqual(range(got[0]!, seq));
    s.ws.close();
  });
});

describe.skipIf(inject('redisUrl') === null)(
  `backfill through Redis in a cluster${inject('redisUrl') === null ? ` (skipped: ${inject('redisSkipReason')})` : ''}`,
  () => {
    it('gives a fan-out that just started the history other brokers saw', async () => {
      const url = inject('redisUrl') as string;
      const prefix = `vwtest:${Date.now()}:`;
      // Broker A with its fan-out takes the gateway; broker B joins the cluster, its fan-out starts later.
      const rig = await startRig({ redis: { url, prefix } }, { redis: { url } });
      // B's parts by hand, because its fan-out must start after the history was published.
      const b = await startBroker({
        host: '127.0.0.1',
        port: 0,
        tls: rig.pki.brokerTls,
        users: rig.users,
        logger: silentLogger(),
        redis: { url },
      });
      try {
        for (let i = 1; i <= 20; i++) await publish(rig.gw, 'bed07', 'wave', i, ecg((i - 1) * 64));
        await waitFor(() => rig.fanout.counters.messagesIn >= 20, 10_000, 'A saw 20');
        const fb = await startFanout({
          broker: b.aedes,
          port: 0,
          users: rig.users,
          logger: silentLogger(),
          redis: { url, prefix },
        });
        try {
          const token = (await fb.sessions.issue({ name: 'obsall', role: 'observer', sites: ['*'] })).token;
          const s = await connectWs(fb.url, token, undefined, { subscribe: ['site1/gw1/bed07'] });
          await waitFor(() => seqs(s.received, 'bed07', Kind.KIND_WAVE).length >= 20, 10_000, 'history from Redis');
          expect(seqs(s.received, 'bed07', Kind.KIND_WAVE)).toEqual(range(1, 20));
          // Live data published to A reaches B's client right after the history.
          for (let i = 21; i <= 25; i++) await publish(rig.gw, 'bed07', 'wave', i, ecg((i - 1) * 64));
          await waitFor(
            () => seqs(s.received, 'bed07', Kind.KIND_WAVE).at(-1) === 25,
            10_000,
            'live through the cluster',
          );
          expect(seqs(s.received, 'bed07', Kind.KIND_WAVE)).toEqual(range(1, 25));
          s.ws.close();
        } finally {
          await fb.close();
        }
      } finally {
        await b.close();
        await rig.close();
      }
    });
  },
);
