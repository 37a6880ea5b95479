// End to end with ground truth (issue 16): `simulate --ward 12 --seed 1`'s machinery (every protocol: HL7 over MLLP
// and TCP, Nonin 7 and 8 on ptys, Masimo, Datex through its session, BLE bridge) into a real gateway, out over TLS
// MQTT to the broker, to a subscriber. Every value and every sample the simulators say they sent arrives unaltered,
// in order, with its unit; every record is marked simulated. Nothing here is lost, so no Gap is expected either.
import type { AedesPublishPacket } from 'aedes';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gatewayConfig } from '../gateway/config.js';
import { startGateway, type Gateway } from '../gateway/gateway.js';
import { silentLogger } from '../lib/log.js';
import { parseStreamTopic } from '../lib/topics.js';
import { Batch, Flag, Kind, type IObservation, type IWaveformChunk } from '../proto/index.js';
import { memoryTruth, type TruthObs, type TruthWave } from '../simulators/ground-truth.js';
import { socatAvailable } from '../simulators/pty.js';
import { prepareRunner, type Runner } from '../simulators/runner.js';
import { wardScenario } from '../simulators/scenario.js';
import { Rig, until } from './chaos/harness.js';

interface Got {
  seq: number;
  obs: IObservation[];
  waves: IWaveformChunk[];
  gaps: number;
}

describe.skipIf(!socatAvailable())(
  'a simulated mixed ward through gateway and broker, against its ground truth',
  () => {
    const rig = new Rig('sim-ward');
    let gw: Gateway | null = null;
    let runner: Runner | null = null;
    const dir = mkdtempSync(join(tmpdir(), 'vw-ward-'));
    afterAll(async () => {
      await runner?.stop();
      await gw?.close();
      await rig.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('every value and sample arrives as sent, marked simulated', async () => {
      await rig.startBroker();
      const got = new Map<string, Got[]>(); // device/kind -> batches
      await new Promise<void>((resolve) =>
        rig.central?.broker.aedes.subscribe(
          'vw/v1/#',
          (packet: AedesPublishPacket, cb: () => void) => {
            const t = parseStreamTopic(packet.topic);
            if (t) {
              const b = Batch.decode(packet.payload as Buffer);
              const key = `${t.device}/${b.kind}`;
              const l = got.get(key) ?? [];
              l.push({ seq: Number(b.seq), obs: b.observations, waves: b.waves, gaps: b.gaps.length });
              got.set(key, l);
            }
            cb();
          },
          resolve,
        ),
      );
      const truth = memoryTruth();
      runner = await prepareRunner({ scenario: wardScenario(12, 1), truth, logger: silentLogger(), ptyDir: dir });
      const protocols = new Set(runner.gatewayDevices.map((d) => d.protocol));
      expect([...protocols].sort()).toEqual(['ble-bridge', 'datex', 'hl7', 'masimo', 'nonin7', 'nonin8']);
      gw = await startGateway({
        config: gatewayConfig(rig.config(runner.gatewayDevices, { batching: { obsMs: 0, waveMs: 0 } })),
        logger: silentLogger(),
      });
      const g = gw;
      // Links the gateway opens (ptys, TCP ports) are up before the ward starts; MLLP senders dial in once it runs.
      const mllp = new Set(runner.gatewayDevices.filter((d) => d.transport.kind === 'mllp-listener').map((d) => d.id));
      await until(
        () => g.uplink.isConnected() && g.devices.every((d) => mllp.has(d.id) || d.state === 'connected'),
        'gateway up, links connected',
        20_000,
      );
      const r = runner;
      r.start();
      await until(() => r.devices.every((d) => d.up), 'every device up', 10_000);
      await new Promise((res) => setTimeout(res, 12_000));
      await r.stop(5000);
      // Wait until the gateway has published everything it received.
      let last = -1;
      await until(
        () => {
          const n = [...got.values()].reduce((a, l) => a + l.length, 0);
          const settled = n === last && g.outbox.depth() === 0;
          last = n;
          return settled;
        },
        'the outbox drained',
        30_000,
      ).catch(() => undefined);
      await new Promise((res) => setTimeout(res, 500));

      const problems: string[] = [];
      let values = 0;
      let samples = 0;
      for (const rd of r.devices) {
        const dev = rd.spec.id;
        const ordered = (kind: number) => (got.get(`${dev}/${kind}`) ?? []).sort((a, b) => a.seq - b.seq);
        const obsBatches = ordered(Kind.KIND_OBS);
        const waveBatches = ordered(Kind.KIND_WAVE);
        for (const b of [...obsBatches, ...waveBatches]) {
          for (const o of b.obs)
            if (((o.flags ?? 0) & Flag.FLAG_SIMULATED) === 0)
              problems.push(`${dev}: an observation not marked simulated`);
          for (const w of b.waves)
            if (((w.flags ?? 0) & Flag.FLAG_SIMULATED) === 0) problems.push(`${dev}: a wave not marked simulated`);
        }
        const gaps = (got.get(`${dev}/${Kind.KIND_STATUS}`) ?? []).reduce((a, b) => a + b.gaps, 0);
        if (gaps > 0) problems.push(`${dev}: ${gaps} gaps`);
        // Values, per code, in order.
        const rx = new Map<string, { v: number | null; unit: string }[]>();
        for (const b of obsBatches) {
          for (const o of b.obs) {
            const v = o.number === undefined || o.number === null ? null : Number(o.number);
            for (const k of new Set([o.refid, o.vendorCode].filter((x): x is string => !!x))) {
              const l = rx.get(k) ?? [];
              l.push({ v, unit: o.unit ?? '' });
              rx.set(k, l);
            }
          }
        }
        const sent = truth.records.filter((t): t is TruthObs => t.t === 'obs' && t.dev === dev);
        if (sent.length === 0) problems.push(`${dev}: sent nothing`);
        const byCode = new Map<string, TruthObs[]>();
        for (const t of sent) byCode.set(t.code, [...(byCode.get(t.code) ?? []), t]);
        for (const [code, ts] of byCode) {
          const r2 = rx.get(code) ?? [];
          values += ts.length;
          if (r2.length !== ts.length) problems.push(`${dev} ${code}: sent ${ts.length}, received ${r2.length}`);
          ts.forEach((t, i) => {
            const x = r2[i];
            if (x && (x.v !== t.value || x.unit !== t.unit))
              problems.push(`${dev} ${code}[${i}]: ${x.v} ${x.unit} expected ${t.value} ${t.unit}`);
          });
        }
        // Samples, per wave, in order, with continuous indices.
        const sentWaves = truth.records.filter((t): t is TruthWave => t.t === 'wave' && t.dev === dev);
        const codes = new Set(sentWaves.map((w) => w.code));
        for (const code of codes) {
          const tw = sentWaves.filter((w) => w.code === code);
          const rw = waveBatches.flatMap((b) => b.waves).filter((w) => w.refid === code);
          const ts = tw.flatMap((w) => w.samples);
          const rs = rw.flatMap((w) => Array.from(w.samples ?? [], Number));
          samples += ts.length;
          if (rs.length !== ts.length || rs.some((v, i) => v !== ts[i]))
            problems.push(
              `${dev} ${code}: ${ts.length} samples sent, ${rs.length} received${rs.length === ts.length ? ' (values differ)' : ''}`,
            );
          const base = tw[0]!.first - Number(rw[0]?.firstSample ?? 0);
          rw.forEach((w, i) => {
            if (tw[i] && Number(w.firstSample) !== tw[i]!.first - base)
              problems.push(
                `${dev} ${code}: chunk ${i} at index ${Number(w.firstSample)}, sent at ${tw[i]!.first - base}`,
              );
          });
        }
      }
      expect(problems).toEqual([]);
      expect(values).toBeGreaterThan(500);
      expect(samples).toBeGreaterThan(10_000);
    }, 120_000);
  },
);
