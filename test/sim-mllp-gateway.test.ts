// A simulated PCD-01 monitor dialling the gateway's MLLP listener, as monitors in the field do: it waits for each
// ACK, which the gateway sends only after the durable write. With the gateway's uplink down the monitor keeps
// getting ACKs (the outbox, not the broker, is the durability point), a duplicate (a resend) is answered from the
// first copy, a dropped connection is redialled and the message in flight resent; when the broker returns, every
// heart rate the monitor had acknowledged reaches the subscriber, once per sequence number, none altered.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gatewayConfig } from '../gateway/config.js';
import { startGateway, type Gateway } from '../gateway/gateway.js';
import { silentLogger } from '../lib/log.js';
import { memoryTruth, type TruthObs } from '../simulators/ground-truth.js';
import { prepareRunner, type Runner } from '../simulators/runner.js';
import { scenario } from '../simulators/scenario.js';
import { Rig, until } from './chaos/harness.js';

describe('simulated MLLP monitor into the gateway', () => {
  const rig = new Rig('sim-mllp');
  let gw: Gateway | null = null;
  let runner: Runner | null = null;
  const dir = mkdtempSync(join(tmpdir(), 'vw-simmllp-'));
  afterAll(async () => {
    await runner?.stop();
    await gw?.close();
    await rig.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is acknowledged with the uplink down, and nothing it sent is lost', async () => {
    await rig.startBroker();
    await rig.stopBroker(); // the uplink is down from the start
    const truth = memoryTruth();
    runner = await prepareRunner({
      scenario: scenario({
        version: 1,
        seed: 9,
        beds: [
          {
            bed: 1,
            devices: [
              {
                id: 'mon',
                protocol: 'hl7',
                transport: 'mllp',
                faults: [
                  { at: 2, kind: 'duplicate' },
                  { at: 3, kind: 'disconnect' },
                ],
              },
            ],
          },
        ],
      }),
      truth,
      logger: silentLogger(),
      ptyDir: dir,
    });
    gw = await startGateway({ config: gatewayConfig(rig.config(runner.gatewayDevices)), logger: silentLogger() });
    const r = runner;
    r.start();
    await until(() => r.counters.acks >= 40, 'ACKs with the uplink down', 20_000);
    expect(gw.uplink.isConnected()).toBe(false);
    await new Promise((res) => setTimeout(res, 1000));
    await r.stop(5000);
    const mllp = r.devices[0]!.mllp!;
    expect(mllp.queued).toBe(0);
    expect(mllp.counters.connects).toBeGreaterThanOrEqual(2); // the disconnect fault: dialled again
    expect((gw.devices[0]!.counters as { duplicates?: number }).duplicates).toBeGreaterThanOrEqual(1);

    await rig.startBroker();
    const sentHr = truth.records
      .filter((t): t is TruthObs => t.t === 'obs' && t.code === 'MDC_ECG_CARD_BEAT_RATE')
      .map((t) => t.value);
    expect(sentHr.length).toBeGreaterThan(5);
    const hr = () => {
      const seen = new Map<number, number[]>();
      for (const x of rig.received) if (x.device === 'mon' && x.kind === 'obs') seen.set(x.seq, x.values);
      return [...seen.entries()].sort((a, b) => a[0] - b[0]).flatMap(([, v]) => v);
    };
    await until(() => hr().length >= sentHr.length, 'every acknowledged heart rate at the subscriber', 30_000);
    expect(hr()).toEqual(sentHr);
  }, 90_000);

  it('near the outbox quota, its ACKs wait: the monitor stops instead of its data being shed, and resumes when the uplink returns', async () => {
    await runner?.stop();
    await gw?.close();
    await rig.stopBroker().catch(() => undefined);
    rig.received.length = 0;
    const truth = memoryTruth();
    // A small outbox (the smallest quota the config takes, 4 KiB segments), the uplink down: the monitor's messages
    // fill it. Above 80 % its ACKs are held (Outbox.room), so it stops sending (one message in flight, per MLLP).
    const quotaBytes = 64 * 1024;
    runner = await prepareRunner({
      scenario: scenario({
        version: 1,
        seed: 11,
        beds: [{ bed: 2, devices: [{ id: 'mon2', protocol: 'hl7', transport: 'mllp' }] }],
      }),
      truth,
      logger: silentLogger(),
      ptyDir: dir,
    });
    gw = await startGateway({
      config: gatewayConfig(
        rig.config(runner.gatewayDevices, { dataDir: join(dir, 'gw-bp'), outbox: { quotaBytes, segmentBytes: 4096 } }),
      ),
      logger: silentLogger(),
    });
    const r = runner;
    const g = gw;
    r.start();
    await until(() => g.outbox.counters.roomWaits > 0, 'an ACK held for room', 30_000);
    const held = r.counters.acks;
    await new Promise((res) => setTimeout(res, 2000));
    // Held: no more ACKs, nothing shed, the outbox below its quota.
    expect(r.counters.acks).toBe(held);
    expect(g.outbox.counters.shedSegments).toBe(0);
    expect(g.outbox.diskBytes()).toBeLessThanOrEqual(quotaBytes);
    await rig.startBroker();
    await until(() => r.counters.acks > held + 5, 'ACKs again once the uplink drains the outbox', 30_000);
    await r.stop(5000);
    const sentHr = truth.records
      .filter((t): t is TruthObs => t.t === 'obs' && t.code === 'MDC_ECG_CARD_BEAT_RATE')
      .map((t) => t.value);
    const hr = () => {
      const seen = new Map<number, number[]>();
      for (const x of rig.received) if (x.device === 'mon2' && x.kind === 'obs') seen.set(x.seq, x.values);
      return [...seen.entries()].sort((a, b) => a[0] - b[0]).flatMap(([, v]) => v);
    };
    await until(() => hr().length >= sentHr.length, 'every acknowledged heart rate at the subscriber', 30_000);
    expect(hr()).toEqual(sentHr);
    expect(g.outbox.counters.shedSegments).toBe(0);
  }, 120_000);
});
