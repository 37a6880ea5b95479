// Issue 13: with one device's link flapping, retained status messages of several devices never reached subscribers
// (seq holes, DISCONNECTED states among them) although the outbox counted them acknowledged, and statuses stored
// before the uplink connected arrived after the live ones (seq 1, 3, 2). On real parts: a real gateway with its
// durable outbox, TLS MQTT to a real Aedes broker (through a TCP gate the test opens and cuts), monitors on TCP links
// (one of them dropped again and again), and an MQTT subscriber that records every status Batch of every device.
import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { gatewayConfig } from '../gateway/config.js';
import { startGateway, type Gateway } from '../gateway/gateway.js';
import { silentLogger } from '../lib/log.js';
import { parseStreamTopic } from '../lib/topics.js';
import { Batch, LinkState } from '../proto/index.js';
import { openTcpSink, type Sink } from '../simulators/sinks.js';
import { GATEWAY, Rig, SITE, streamCounter, until } from './chaos/harness.js';
import { startTcpGate, type TcpGate } from './tcp-gate.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ObsRx {
  device: string;
  seq: number;
  backfill: boolean;
}

interface StatusRx {
  seq: number;
  states: number[];
  gaps: number;
  backfill: boolean;
}

function scenario(label: string, replayMessagesPerSecond: number, check: (obs: ObsRx[]) => void): void {
  describe(`gateway: status stream while a device link flaps (${label})`, () => {
    const rig = new Rig('status-order');
    const sinks: Sink[] = [];
    const monitors: ReturnType<typeof streamCounter>[] = [];
    let gate: TcpGate | null = null;
    let gw: Gateway | null = null;
    let sub: MqttClient | null = null;
    afterAll(async () => {
      for (const m of monitors) m.stop();
      await gw?.close();
      await sub?.endAsync(true);
      await gate?.stop();
      for (const s of sinks) await s.close();
      await rig.close();
    });

    it('delivers every status Batch of every device to an MQTT subscriber, none missing, in seq order', async () => {
      await rig.startBroker();
      // The subscriber is there before the gateway can reach the broker: it must see every status ever published.
      const received = new Map<string, StatusRx[]>();
      sub = await mqtt.connectAsync(rig.url, {
        ca: readFileSync(rig.tls.ca),
        username: 'observer',
        password: 'observer-pw',
        clientId: 'observer:status-order',
        protocolVersion: 4,
        reconnectPeriod: 0,
      });
      const obs: ObsRx[] = [];
      sub.on('message', (topic, payload) => {
        const t = parseStreamTopic(topic);
        if (!t) return;
        const b = Batch.decode(payload);
        if (t.kind === 'obs') obs.push({ device: t.device, seq: Number(b.seq), backfill: b.backfill });
        if (t.kind !== 'status') return;
        if (Number(b.seq) === 0) return; // the last will: not part of the sequence
        const list = received.get(t.device) ?? [];
        list.push({
          seq: Number(b.seq),
          states: b.statuses.map((s) => s.state ?? 0),
          gaps: b.gaps.length,
          backfill: b.backfill,
        });
        received.set(t.device, list);
      });
      await sub.subscribeAsync(`vw/v1/${SITE}/${GATEWAY}/+/+`, { qos: 1 });

      gate = await startTcpGate({ host: '127.0.0.1', port: rig.port });
      for (let i = 0; i < 3; i++) sinks.push(await openTcpSink('127.0.0.1', 0));
      const devices = sinks.map((s, i) => ({
        id: `bed0${i + 1}`,
        protocol: 'hl7',
        transport: { kind: 'tcp' as const, host: '127.0.0.1', port: s.port ?? 0 },
      }));
      gw = await startGateway({
        config: gatewayConfig(
          rig.config(devices, {
            broker: {
              urls: [`mqtts://127.0.0.1:${gate.port}`],
              reconnect: { minMs: 50, maxMs: 200 },
              connectTimeoutMs: 3000,
            },
            reconnect: { minMs: 10, maxMs: 40 },
            batching: { obsMs: 100, waveMs: 100 },
            outbox: { commitDelayMs: 2 },
            publish: { statusIntervalMs: 1000, replayMessagesPerSecond },
          }),
        ),
        logger: silentLogger(),
      });
      const g = gw;
      for (const s of sinks) monitors.push(streamCounter(() => s, 10));
      const flapper = sinks[0] as Sink & { dropPeers(): void };
      const flap = async (times: number) => {
        for (let i = 0; i < times; i++) {
          await until(() => g.devices[0]?.state === 'connected', 'bed01 linked again', 10_000);
          await sleep(80);
          flapper.dropPeers();
        }
      };

      // 1. The uplink cannot reach the broker: every status so far is stored, to be replayed.
      await until(() => g.devices.every((d) => d.state === 'connected'), 'devices linked');
      await flap(4);
      expect(g.uplink.isConnected()).toBe(false);
      // 2. Connected: the stored statuses and the fresh ones of the connect, while bed01 keeps flapping.
      gate.open();
      await flap(8);
      // 3. The uplink is cut for a moment (statuses in flight return to the backlog), bed01 still flapping.
      gate.close();
      await flap(3);
      gate.open();
      await flap(8);

      for (const m of monitors) m.stop();
      await until(() => g.devices[0]?.state === 'connected', 'bed01 linked at the end', 10_000);
      await Promise.all([...g.runtimes.values()].map((rt) => rt.commit()));
      await until(
        () => g.uplink.isConnected() && g.outbox.depth() === 0 && g.uplink.inflight() === 0,
        'everything acknowledged',
        30_000,
      );
      const expectedSeqs = (device: string) =>
        Array.from({ length: g.outbox.lastSeq(device, 'status') }, (_, i) => i + 1);
      const firstSeen = (device: string) => {
        const seen = new Set<number>();
        const out: number[] = [];
        // A repeated seq is a QoS 1 duplicate of a message whose PUBACK was lost: a consumer drops it.
        for (const r of received.get(device) ?? [])
          if (!seen.has(r.seq)) {
            seen.add(r.seq);
            out.push(r.seq);
          }
        return out;
      };
      const all = ['bed01', 'bed02', 'bed03', '_gateway'];
      await until(
        () => all.every((d) => firstSeen(d).length >= expectedSeqs(d).length),
        'every status delivered',
        10_000,
      ).catch(() => undefined);

      for (const d of all) {
        expect(expectedSeqs(d).length, `${d}: statuses stored`).toBeGreaterThan(1);
        expect(firstSeen(d), `${d}: status seqs as delivered`).toEqual(expectedSeqs(d));
      }
      // The flapping device's drops are all there: one DISCONNECTED status per link that closed or failed to open.
      // (Transitions: the periodic status repeats the state it finds.)
      const bySeq = new Map((received.get('bed01') ?? []).map((r) => [r.seq, r]));
      let drops = 0;
      let last = 0;
      for (const seq of expectedSeqs('bed01')) {
        const state = bySeq.get(seq)?.states[0];
        if (state === undefined) continue; // a Gap marker
        if (state === LinkState.LINK_STATE_DISCONNECTED && last !== state) drops++;
        last = state;
      }
      const errors = g.devices[0]?.counters.errors ?? {};
      expect(drops).toBe((errors.VW_ERR_LINK_CLOSED ?? 0) + (errors.VW_ERR_LINK_OPEN ?? 0));
      expect(drops).toBeGreaterThanOrEqual(15);
      // The retained status a newcomer gets is each device's newest (or one published since): never an older one.
      const newestStatus = (d: string) =>
        Math.max(...(received.get(d) ?? []).filter((r) => r.states.length > 0).map((r) => r.seq));
      const before = new Map(all.map((d) => [d, newestStatus(d)]));
      const late = await mqtt.connectAsync(rig.url, {
        ca: readFileSync(rig.tls.ca),
        username: 'observer',
        password: 'observer-pw',
        clientId: 'observer:late',
        protocolVersion: 4,
        reconnectPeriod: 0,
      });
      try {
        const retained = new Map<string, number>();
        late.on('message', (topic, payload, packet) => {
          const t = parseStreamTopic(topic);
          if (t && packet.retain) retained.set(t.device, Number(Batch.decode(payload).seq));
        });
        await late.subscribeAsync(`vw/v1/${SITE}/${GATEWAY}/+/status`, { qos: 1 });
        await until(() => retained.size === all.length, 'retained statuses', 5000);
        for (const d of all) {
          // Gap markers share the stream and are not retained: the retained copy is a status record.
          expect(retained.get(d), `${d}: retained`).toBeGreaterThanOrEqual(before.get(d) ?? Infinity);
          expect(
            (received.get(d) ?? []).find((r) => r.seq === retained.get(d))?.states.length,
            `${d}: retained is a status`,
          ).toBeGreaterThan(0);
        }
      } finally {
        await late.endAsync(true);
      }
      check(obs);
    }, 120_000);
  });
}

/** Per device, the obs seqs in the order they arrived, duplicates (QoS 1 resends) left out. */
function obsOrder(obs: readonly ObsRx[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const r of obs) {
    const list = out.get(r.device) ?? [];
    if (!list.includes(r.seq)) list.push(r.seq);
    out.set(r.device, list);
  }
  return out;
}

// Each backlog here (what the devices sent while the uplink was down) is under a second of replay: it goes before
// anything live, so every stream, numerics included, arrives in seq order.
scenario('short interruptions: the backlog first', 400, (obs) => {
  expect(obs.some((r) => r.backfill)).toBe(true);
  for (const [device, seqs] of obsOrder(obs)) expect(seqs, `${device} obs`).toEqual([...seqs].sort((a, b) => a - b));
});

// A replay pace of 20/s makes the first backlog longer than a second of replay: live numerics go first (the specialist
// sees the patient now), and still no status overtakes an older one.
scenario('a long backlog: live data first, live status after the stored ones', 20, (obs) => {
  const lastBackfill = obs.findLastIndex((r) => r.backfill);
  expect(lastBackfill).toBeGreaterThan(0);
  expect(
    obs.slice(0, lastBackfill).some((r) => !r.backfill),
    'live numerics arrived while the backlog was replayed',
  ).toBe(true);
});
