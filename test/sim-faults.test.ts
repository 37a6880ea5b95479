// Faults on the wire (issue 16): line noise, torn, corrupt and oversized frames, a burst after a stall, a slow drip,
// a device clock jump. The gateway rejects and counts what the faults broke and keeps the rest of the stream: what
// reaches the subscriber is exactly the ground truth (which lists a frame a fault broke as lost, never as sent).
import type { AedesPublishPacket } from 'aedes';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gatewayConfig } from '../gateway/config.js';
import { startGateway, type Gateway } from '../gateway/gateway.js';
import { silentLogger } from '../lib/log.js';
import { parseStreamTopic } from '../lib/topics.js';
import { Batch, Kind } from '../proto/index.js';
import { memoryTruth, type TruthObs } from '../simulators/ground-truth.js';
import { prepareRunner, type Runner } from '../simulators/runner.js';
import { scenario } from '../simulators/scenario.js';
import { Rig, until } from './chaos/harness.js';

describe('simulated faults through the gateway', () => {
  const rig = new Rig('sim-faults');
  let gw: Gateway | null = null;
  let runner: Runner | null = null;
  const dir = mkdtempSync(join(tmpdir(), 'vw-simfaults-'));
  afterAll(async () => {
    await runner?.stop();
    await gw?.close();
    await rig.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('bad frames are rejected and counted, good ones all arrive unaltered', async () => {
    await rig.startBroker();
    const rx = new Map<string, { seq: number; code: string; v: number | null }[]>();
    await new Promise<void>((resolve) =>
      rig.central?.broker.aedes.subscribe(
        'vw/v1/+/+/+/obs',
        (packet: AedesPublishPacket, cb: () => void) => {
          const t = parseStreamTopic(packet.topic);
          const b = Batch.decode(packet.payload as Buffer);
          if (t && b.kind === Kind.KIND_OBS) {
            const l = rx.get(t.device) ?? [];
            for (const o of b.observations)
              for (const code of new Set([o.refid, o.vendorCode].filter((x): x is string => !!x)))
                l.push({
                  seq: Number(b.seq),
                  code,
                  v: o.number === undefined || o.number === null ? null : Number(o.number),
                });
            rx.set(t.device, l);
          }
          cb();
        },
        resolve,
      ),
    );
    const truth = memoryTruth();
    runner = await prepareRunner({
      scenario: scenario({
        version: 1,
        seed: 4,
        beds: [
          {
            bed: 1,
            devices: [
              {
                id: 'ox',
                protocol: 'nonin7',
                transport: 'tcp',
                faults: [
                  { at: 1, kind: 'garbage', bytes: 200 },
                  { at: 2, kind: 'checksum' },
                  { at: 3, kind: 'truncate' },
                  { at: 4, kind: 'burst', for: 1.5 },
                  { at: 6.5, kind: 'drip', for: 1 },
                ],
              },
            ],
          },
          {
            bed: 2,
            devices: [
              {
                id: 's5',
                protocol: 'datex',
                transport: 'tcp',
                faults: [
                  { at: 6, kind: 'checksum' },
                  { at: 11, kind: 'oversize' },
                  { at: 16, kind: 'garbage', bytes: 50 },
                ],
              },
            ],
          },
          {
            bed: 3,
            devices: [
              {
                id: 'rad7',
                protocol: 'masimo',
                transport: 'tcp',
                faults: [
                  { at: 2, kind: 'oversize' },
                  { at: 4, kind: 'clock-jump', offsetMs: 3_600_000 },
                ],
              },
            ],
          },
        ],
      }),
      truth,
      logger: silentLogger(),
      ptyDir: dir,
      noSocat: true,
    });
    const devices = runner.gatewayDevices.map((d) =>
      d.protocol === 'datex' ? { ...d, session: { intervalS: 5 } } : d,
    );
    gw = await startGateway({
      config: gatewayConfig(rig.config(devices, { batching: { obsMs: 0, waveMs: 0 } })),
      logger: silentLogger(),
    });
    const g = gw;
    await until(() => g.uplink.isConnected() && g.devices.every((d) => d.state === 'connected'), 'links up', 20_000);
    const r = runner;
    r.start();
    await new Promise((res) => setTimeout(res, 17_000));
    await r.stop();
    await new Promise((res) => setTimeout(res, 1500));
    expect(r.counters.faults).toBe(10);

    const counters = (id: string) => g.devices.find((d) => d.id === id)!.counters;
    // Nonin 7's framer checks each 5-byte frame's sum: the corrupt packet and the torn one fail there.
    expect(counters('ox').errors['VW_ERR_NONIN_CHECKSUM'] ?? 0).toBeGreaterThanOrEqual(2);
    expect(counters('ox').errors['VW_ERR_FRAME_GARBAGE'] ?? 0).toBeGreaterThanOrEqual(1);
    expect(counters('s5').errors['VW_ERR_DATEX_CHECKSUM']).toBeGreaterThanOrEqual(1);
    expect(counters('s5').errors['VW_ERR_FRAME_TOO_LARGE']).toBeGreaterThanOrEqual(1);
    expect(counters('rad7').errors['VW_ERR_FRAME_TOO_LARGE']).toBeGreaterThanOrEqual(1);
    expect(
      g.runtimes.get('rad7')!.counters.timeSuspect.jump + g.runtimes.get('rad7')!.counters.timeSuspect.future,
    ).toBeGreaterThanOrEqual(1);
    // The faults' frames are listed as lost in the ground truth.
    const lostFrames = truth.records.filter((t) => t.t === 'fault' && (t.frames?.length ?? 0) > 0);
    expect(lostFrames.length).toBeGreaterThanOrEqual(3);

    for (const dev of ['ox', 's5', 'rad7']) {
      const sent = truth.records.filter((t): t is TruthObs => t.t === 'obs' && t.dev === dev);
      expect(sent.length, dev).toBeGreaterThan(10);
      const got = (rx.get(dev) ?? []).sort((a, b) => a.seq - b.seq);
      for (const code of new Set(sent.map((t) => t.code))) {
        expect(
          got.filter((x) => x.code === code).map((x) => x.v),
          `${dev} ${code}`,
        ).toEqual(sent.filter((t) => t.code === code).map((t) => t.value));
      }
    }
  }, 90_000);
});
