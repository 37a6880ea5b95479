// Live fan-out under a ward's load: 1,000 dashboard WebSockets, each watching 1-4 beds of a 50-bed ward stream
// (per bed: numerics 1 Hz, an ECG II + pleth + resp chunk every 256 ms, the Batches the gateway would publish), fed
// in process by an Aedes broker. The same clients, the same bytes, then go through a bare `ws` broadcaster (no
// sessions, no scopes, no queues, one ws.send per Batch per client): the peer.
//
// The ward is replayed at 1x, 2x, 4x... real time. At each speed the clients (in a child process, so their work is
// not on the measured event loop) count Batches and their latency from publish to arrival. A peer's capacity is
// the highest delivery rate it sustains with p99 <= 100 ms and >= 98 % of the offered Batches delivered.
// Figures: deliveries_per_s (capacity, ratio to the bare broadcaster's), latency_p99_ms and latency_p50_ms at 1x.
import { fork, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Aedes, type AedesPublishPacket } from 'aedes';
import { WebSocketServer, type WebSocket } from 'ws';
import { startFanout } from '../fanout/server.js';
import { createUserStore, hashPassword } from '../broker/users.js';
import { silentLogger } from '../lib/log.js';
import { Batch, Kind, type IObservation, type IWaveformChunk } from '../proto/index.js';
import { CHUNK_MS, WAVES, createWaveSynth } from '../simulators/ecg.js';
import { createRng } from '../simulators/prng.js';
import type { SwarmCommand, SwarmReply } from './lib/fanout-clients.js';
import { figure } from './lib/report.js';
import type { Bench, BenchResult } from './lib/types.js';

const BEDS = 50;
const P99_LIMIT_MS = 100;
const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));

// ---- the ward: what 50 monitors' gateways publish -------------------------------------------------------------

interface BedSource {
  key: string;
  obsSeq: number;
  waveSeq: number;
  nextObs: number;
  nextWave: number;
  chunk: number;
  chunks: IWaveformChunk[][];
  vitals: IObservation[];
}

function makeBeds(): BedSource[] {
  const rng = createRng(42);
  return Array.from({ length: BEDS }, (_, i) => {
    const synth = createWaveSynth(100 + i);
    const chunks: IWaveformChunk[][] = [];
    for (let k = 0; k < 40; k++) {
      const w = synth.next(70 + (i % 30), 14 + (i % 6));
      const base = { time: { gatewayTimeUs: 0, deviceTimeUs: 0 }, firstSample: 0 };
      chunks.push([
        {
          ...base,
          mdc: 131330,
          refid: 'MDC_ECG_ELEC_POTL_II',
          sampleRateHz: WAVES.ecg.rateHz,
          samples: Array.from(w.ecg),
          scale: WAVES.ecg.resolution,
          unit: 'mV',
          vendorCode: '131330^MDC_ECG_ELEC_POTL_II^MDC',
          invalidValue: 32767,
        },
        {
          ...base,
          mdc: 150452,
          refid: 'MDC_PULS_OXIM_PLETH',
          sampleRateHz: WAVES.pleth.rateHz,
          samples: Array.from(w.pleth),
          scale: 1,
          unit: '1',
          vendorCode: '150452^MDC_PULS_OXIM_PLETH^MDC',
        },
        {
          ...base,
          mdc: 151780,
          refid: 'MDC_IMPED_TTHOR',
          sampleRateHz: WAVES.resp.rateHz,
          samples: Array.from(w.resp),
          scale: 1,
          unit: '1',
          vendorCode: '151780^MDC_IMPED_TTHOR^MDC',
        },
      ]);
    }
    const obs = (mdc: number, refid: string, value: number, unit: string): IObservation => ({
      time: { gatewayTimeUs: 0, deviceTimeUs: 0, deviceUtcOffsetMin: 420 },
      mdc,
      refid,
      number: value,
      unit,
      vendorCode: `${mdc}^${refid}^MDC`,
      vendorUnit: unit,
      containment: `1.1.1.${mdc}`,
    });
    return {
      key: `ward/gw${1 + (i % 5)}/bed${String(i + 1).padStart(2, '0')}`,
      obsSeq: 0,
      waveSeq: 0,
      nextObs: rng() * 1000,
      nextWave: rng() * CHUNK_MS,
      chunk: 0,
      chunks,
      vitals: [
        obs(147842, 'MDC_ECG_CARD_BEAT_RATE', 72, '/min'),
        obs(150456, 'MDC_PULS_OXIM_SAT_O2', 97, '%'),
        obs(149530, 'MDC_PULS_OXIM_PULS_RATE', 71, '/min'),
        obs(151562, 'MDC_RESP_RATE', 15, '/min'),
      ],
    };
  });
}

class Ward {
  offered = 0; // Batches x watching clients, since reset
  private timer: NodeJS.Timeout | null = null;
  constructor(
    private readonly broker: Aedes,
    private readonly beds: BedSource[],
    private readonly watchers: Map<string, number>,
  ) {}

  private send(b: BedSource, kind: 'obs' | 'wave', nowUs: number): void {
    const [site = '', gateway = '', device = ''] = b.key.split('/');
    const source = { site, gateway, device, bed: `Bed ${b.key.slice(-2)}`, model: 'VW-SIM', protocol: 'hl7' };
    let payload: Uint8Array;
    if (kind === 'obs') {
      for (const o of b.vitals) o.time = { gatewayTimeUs: nowUs, deviceTimeUs: nowUs, deviceUtcOffsetMin: 420 };
      payload = Batch.encode({
        source,
        kind: Kind.KIND_OBS,
        seq: ++b.obsSeq,
        publishTimeUs: nowUs,
        observations: b.vitals,
      }).finish();
    } else {
      const waves = b.chunks[b.chunk++ % b.chunks.length] as IWaveformChunk[];
      for (const w of waves) {
        w.firstSample = b.waveSeq * (w.samples?.length ?? 0);
        w.time = { gatewayTimeUs: nowUs, deviceTimeUs: nowUs };
      }
      payload = Batch.encode({ source, kind: Kind.KIND_WAVE, seq: ++b.waveSeq, publishTimeUs: nowUs, waves }).finish();
    }
    this.offered += this.watchers.get(b.key) ?? 0;
    this.broker.publish(
      {
        cmd: 'publish',
        topic: `vw/v1/${b.key}/${kind}`,
        payload: Buffer.from(payload.buffer, payload.byteOffset, payload.length),
        qos: 0,
        retain: false,
        dup: false,
      },
      () => undefined,
    );
  }

  start(speed: number): void {
    const t0 = performance.now();
    for (const b of this.beds) {
      b.nextObs = t0 + (b.nextObs % 1000) / speed;
      b.nextWave = t0 + (b.nextWave % CHUNK_MS) / speed;
    }
    this.timer = setInterval(() => {
      const now = performance.now();
      const us = Math.round((performance.timeOrigin + now) * 1000);
      for (const b of this.beds) {
        while (b.nextObs <= now) {
          this.send(b, 'obs', us);
          b.nextObs += 1000 / speed;
        }
        while (b.nextWave <= now) {
          this.send(b, 'wave', us);
          b.nextWave += CHUNK_MS / speed;
        }
      }
    }, 4);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

// ---- the peer: a bare ws broadcaster ----------------------------------------------------------------------------

async function startBare(broker: Aedes): Promise<{ url: string; close(): Promise<void> }> {
  const http = createServer();
  const wss = new WebSocketServer({ server: http, perMessageDeflate: false, maxPayload: 4096 });
  const byBed = new Map<string, Set<WebSocket>>();
  wss.on('connection', (ws, req) => {
    const beds = (new URL(req.url ?? '/', 'http://x').searchParams.get('beds') ?? '').split(',').filter(Boolean);
    for (const b of beds) {
      let set = byBed.get(b);
      if (!set) byBed.set(b, (set = new Set()));
      set.add(ws);
    }
    ws.on('close', () => {
      for (const b of beds) byBed.get(b)?.delete(ws);
    });
  });
  const deliver = (packet: AedesPublishPacket, cb: () => void): void => {
    const p = packet.topic.split('/');
    const set = byBed.get(`${p[2]}/${p[3]}/${p[4]}`);
    if (set) for (const ws of set) ws.send(packet.payload, { binary: true });
    cb();
  };
  await new Promise<void>((resolve) => broker.subscribe('vw/v1/#', deliver, resolve));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/`,
    async close() {
      await new Promise<void>((resolve) => broker.unsubscribe('vw/v1/#', deliver, resolve));
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

// ---- the run -----------------------------------------------------------------------------------------------------

function ask(child: ChildProcess, c: SwarmCommand): Promise<SwarmReply> {
  return new Promise((resolve, reject) => {
    const onExit = (): void => reject(new Error('client swarm exited'));
    child.once('exit', onExit);
    child.once('message', (r: SwarmReply) => {
      child.off('exit', onExit);
      resolve(r);
    });
    child.send(c);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Step {
  speed: number;
  offeredPerS: number;
  deliveredPerS: number;
  p50: number;
  p99: number;
  ok: boolean;
}

async function sweep(
  child: ChildProcess,
  ward: Ward,
  speeds: readonly number[],
  measureMs: number,
  log: (m: string) => void,
  name: string,
): Promise<Step[]> {
  const steps: Step[] = [];
  for (const speed of speeds) {
    ward.start(speed);
    await sleep(1500); // warm-up: JIT, socket buffers, the first flushes
    await ask(child, { type: 'reset' });
    ward.offered = 0;
    const t0 = performance.now();
    await sleep(measureMs);
    const offered = ward.offered;
    const s = (await ask(child, { type: 'stats' })) as Extract<SwarmReply, { type: 'stats' }>;
    const secs = (performance.now() - t0) / 1000;
    ward.stop();
    await sleep(800); // drain before the next step
    const step: Step = {
      speed,
      offeredPerS: offered / secs,
      deliveredPerS: s.deliveries / secs,
      p50: s.p50,
      p99: s.p99,
      ok: false,
    };
    step.ok = step.p99 <= P99_LIMIT_MS && s.deliveries >= 0.98 * offered && s.closed === 0;
    steps.push(step);
    log(
      `${name} x${speed}: offered ${Math.round(step.offeredPerS)}/s, delivered ${Math.round(step.deliveredPerS)}/s, p50 ${step.p50.toFixed(1)} ms, p99 ${step.p99.toFixed(1)} ms${s.closed ? `, ${s.closed} closed` : ''}${step.ok ? '' : ' (over the limit)'}`,
    );
    if (!step.ok) break;
  }
  return steps;
}

export const bench: Bench = {
  name: 'fanout',
  description:
    '1,000 dashboards on a 50-bed ward stream: deliveries/s at p99 <= 100 ms and latency, vs a bare ws broadcaster',
  async run({ quick, log }): Promise<BenchResult[]> {
    const clients = quick ? 300 : 1000;
    const speeds = quick ? [1, 4] : [1, 2, 4, 8, 12, 16, 24, 32];
    const measureMs = quick ? 2000 : 4000;
    const rng = createRng(7);
    const beds = makeBeds();
    const assignments = Array.from({ length: clients }, (_, i) => {
      const k = 1 + (i % 4);
      const set = new Set<string>();
      while (set.size < k) set.add((beds[Math.floor(rng() * BEDS)] as BedSource).key);
      return [...set];
    });
    const watchers = new Map<string, number>();
    for (const a of assignments) for (const b of a) watchers.set(b, (watchers.get(b) ?? 0) + 1);

    const broker = await Aedes.createBroker();
    // The fan-out checks every session's user against the store (issue 14 finding 10): the clients' users exist there
    // (one hash for all: no one logs in with a password here).
    const hash = await hashPassword('bench-password-unused');
    const users = createUserStore(
      assignments.map((_, i) => ({ name: `u${i}`, role: 'observer' as const, sites: ['ward'], hash })),
    );
    const fanout = await startFanout({ broker, port: 0, users, logger: silentLogger(), limits: { maxClients: 5000 } });
    const bare = await startBare(broker);
    const child = fork(here('../bin/run-ts.mjs'), [here('./lib/fanout-clients.ts')], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const ward = new Ward(broker, beds, watchers);
    try {
      // One user per client, each seeing every bed (scopes are checked per subscription all the same).
      const tokens = await Promise.all(
        assignments.map(
          async (_, i) => (await fanout.sessions.issue({ name: `u${i}`, role: 'observer', sites: ['ward'] })).token,
        ),
      );
      const results: Record<'fanout' | 'bare', Step[]> = { fanout: [], bare: [] };
      for (const [name, url] of [
        ['fanout', fanout.url.replace(/^http/, 'ws') + 'ws'],
        ['bare', bare.url],
      ] as const) {
        const c = (await ask(child, { type: 'connect', url, mode: name, tokens, beds: assignments })) as Extract<
          SwarmReply,
          { type: 'connected' }
        >;
        log(
          `${name}: ${c.open} clients connected${c.failed ? `, ${c.failed} failed` : ''}, watching ${assignments.reduce((n, a) => n + a.length, 0)} beds in all`,
        );
        if (c.failed > 0) throw new Error(`${name}: ${c.failed} clients could not connect`);
        await sleep(1000); // subscriptions settle
        results[name] = await sweep(child, ward, speeds, measureMs, log, name);
        await ask(child, { type: 'disconnect' });
      }
      const capacity = (steps: Step[]): number => Math.max(0, ...steps.filter((s) => s.ok).map((s) => s.deliveredPerS));
      const f1 = results.fanout[0];
      const b1 = results.bare[0];
      if (!f1 || !b1) throw new Error('no measurement');
      const out: BenchResult[] = [];
      const fc = capacity(results.fanout);
      const bc = capacity(results.bare);
      out.push(
        figure({
          bench: 'fanout',
          metric: 'deliveries_per_s',
          value: fc,
          unit: '/s',
          peer: 'bare ws broadcaster',
          ...(bc > 0 ? { peerValue: bc } : {}),
        }),
      );
      out.push(
        figure({
          bench: 'fanout',
          metric: 'latency_p99_ms',
          value: f1.p99,
          unit: 'ms',
          peer: 'bare ws broadcaster',
          peerValue: b1.p99,
        }),
      );
      out.push(
        figure({
          bench: 'fanout',
          metric: 'latency_p50_ms',
          value: f1.p50,
          unit: 'ms',
          peer: 'bare ws broadcaster',
          peerValue: b1.p50,
        }),
      );
      log(
        `fanout counters: ${JSON.stringify({ delivered: fanout.counters.delivered, droppedWaves: fanout.counters.droppedWaves, coalesced: fanout.counters.coalesced, slowClosed: fanout.counters.slowClosed })}`,
      );
      return out;
    } finally {
      ward.stop();
      child.send({ type: 'exit' } satisfies SwarmCommand);
      await bare.close();
      await fanout.close();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    }
  },
};
