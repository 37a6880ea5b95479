// gateway: the ward of `vitalwire simulate --ward 50 --seed 1` (simulators/runner.ts: 50 devices of mixed protocols,
// HL7 PCD-01 monitors with ECG I/II/III, pleth and respiration over MLLP (waiting for each ACK, which waits for the
// fsync) and terminal-server TCP ports, Nonin 7 and 8, Masimo, Datex S/5 through its session and BLE bridges on socat
// ptys) into the gateway and out to a local TLS broker. The gateway runs as its own process (`vitalwire gateway
// --config`), so its CPU and RSS are read from /proc without the simulators' and the broker's. Figures:
//   cpu_pct_one_core, rss_mb     steady state under the ward (target: <= 25 % of one core, <= 150 MB)
//   outbox_mb_per_s              the outbox's sustained append rate with group commit and fsync, in process, peer:
//                                what the ward needs (measured from the gateway's metrics in the same run)
//   replay_msgs_per_s            backfill published after a broker outage while the ward keeps sending, peer: live rate
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Outbox } from '../gateway/outbox/outbox.js';
import { silentLogger } from '../lib/log.js';
import { noTruth } from '../simulators/ground-truth.js';
import { prepareRunner, type Runner } from '../simulators/runner.js';
import { wardScenario } from '../simulators/scenario.js';
import { Rig, until } from '../test/chaos/harness.js';
import { freePort } from '../lib/listen.js';
import { figure } from './lib/report.js';
import { median } from './lib/stats.js';
import type { Bench, BenchResult } from './lib/types.js';

const BIN = join(import.meta.dirname, '..', 'bin', 'vitalwire');
const MONITORS = 50;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function clockTicks(): number {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  return Number(r.stdout.trim()) || 100;
}

function cpuTicks(pid: number): number {
  // /proc/<pid>/stat: fields after the ")" of the command name; utime and stime are fields 14 and 15.
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

async function scrape(port: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const m = /^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (!m) continue;
    const mode = /mode="(\w+)"/.exec(m[2] ?? '')?.[1];
    const key = mode ? `${m[1]}:${mode}` : (m[1] ?? '');
    out.set(key, (out.get(key) ?? 0) + Number(m[3]));
  }
  return out;
}

/** The outbox's own ceiling: producers append ward-sized wave batches as fast as group commit lets them. */
async function outboxCapacity(seconds: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'vw-bench-outbox-'));
  const box = await Outbox.open({
    dir,
    site: 's',
    gateway: 'g',
    quotaBytes: 8 * 1024 ** 3,
    segmentBytes: 8 * 1024 * 1024,
    commitDelayMs: 5,
    commitMaxBytes: 1024 * 1024,
    logger: silentLogger(),
  });
  const samples = Array.from({ length: 375 }, (_, i) => ((i * 37) % 2000) - 1000); // 250 ms of 3 ECG leads
  const waves = [0, 1, 2].map((l) => ({
    mdc: 131329 + l,
    refid: 'MDC_ECG_ELEC_POTL',
    sampleRateHz: 500,
    scale: 0.001,
    unit: 'mV',
    samples: samples.slice(l * 125, l * 125 + 125),
  }));
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  const producer = async (p: number) => {
    for (let i = 0; performance.now() < end; i++) {
      await box.append({
        source: { site: 's', gateway: 'g', device: `bed${p}` },
        kind: 'wave',
        fromUs: i,
        toUs: i,
        body: { waves },
      });
    }
  };
  await Promise.all(Array.from({ length: 64 }, (_, p) => producer(p)));
  const mb = box.counters.appendedBytes / 1e6 / ((performance.now() - start) / 1000);
  await box.close();
  rmSync(dir, { recursive: true, force: true });
  return mb;
}

export const bench: Bench = {
  name: 'gateway',
  description:
    'the mixed 50-device ward of simulate --ward 50 --seed 1 (ptys, TCP, MLLP) into the gateway process and out to a TLS broker: CPU, RSS, outbox MB/s, replay rate',
  async run({ quick, log }): Promise<BenchResult[]> {
    const warmS = quick ? 5 : 10;
    const measureS = quick ? 10 : 30;
    const outageS = quick ? 5 : 20;
    const rig = new Rig('bench-gw', { keep: false });
    let child: ChildProcess | null = null;
    let ward: Runner | null = null;
    const out: BenchResult[] = [];
    try {
      await rig.startBroker();
      // VW_BENCH_ECG_RATE=500 sends the HL7 monitors' three ECG leads at 500 Hz instead of 250 Hz.
      const ecgRateHz = process.env['VW_BENCH_ECG_RATE'] === '500' ? 500 : 250;
      mkdirSync(join(rig.dir, 'pty'), { recursive: true });
      ward = await prepareRunner({
        scenario: wardScenario(MONITORS, 1, { ecgRateHz }),
        truth: noTruth,
        logger: silentLogger(),
        ptyDir: join(rig.dir, 'pty'),
      });
      const w = ward;
      const metricsPort = await freePort();
      const devices = ward.gatewayDevices;
      const mix = new Map<string, number>();
      for (const d of devices)
        mix.set(`${d.protocol}/${d.transport.kind}`, (mix.get(`${d.protocol}/${d.transport.kind}`) ?? 0) + 1);
      const file = join(rig.dir, 'gateway.json');
      writeFileSync(file, JSON.stringify(rig.config(devices, { metrics: { host: '127.0.0.1', port: metricsPort } })));
      // The gateway runs with the V8 options of the systemd unit (deploy/vitalwire-gateway.service), as deployed.
      const unit = readFileSync(join(import.meta.dirname, '..', 'deploy', 'vitalwire-gateway.service'), 'utf8');
      const nodeFlags = (
        process.env['VW_BENCH_NODE_FLAGS'] ??
        /^Environment="NODE_OPTIONS=([^"]*)"/m.exec(unit)?.[1] ??
        ''
      )
        .split(' ')
        .filter(Boolean);
      log(`gateway node options: ${nodeFlags.join(' ') || '(none)'}`);
      // VW_BENCH_GATEWAY_RUNNER=tsx runs the sources through tsx instead of dist/ (how every start ran before the build).
      const runner =
        process.env['VW_BENCH_GATEWAY_RUNNER'] === 'tsx'
          ? ['--import', 'tsx', join(import.meta.dirname, 'lib', 'tsx-entry.ts')]
          : [BIN];
      log(`gateway runs ${runner.join(' ')}`);
      child = spawn(process.execPath, [...nodeFlags, ...runner, 'gateway', '--config', file], {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { ...process.env, VW_LOG_LEVEL: 'warn' },
      });
      const pid = child.pid ?? 0;
      await until(() => rig.tally.messages > 0, 'the gateway publishing', 30_000);
      ward.start();
      const samples = () => w.counters.samples;
      log(
        `ward of ${MONITORS} devices (${[...mix].map(([k, n]) => `${n} ${k}`).join(', ')}), ECG 3 leads at ${ecgRateHz} Hz; warm-up ${warmS} s`,
      );
      await sleep(warmS * 1000);

      const hz = clockTicks();
      const cpu0 = cpuTicks(pid);
      const m0 = await scrape(metricsPort);
      const s0 = samples();
      const w0 = performance.now();
      const rss: number[] = [];
      const cpuWindows: number[] = [];
      let lastTicks = cpu0;
      let lastAt = w0;
      for (let s = 0; s < measureS; s++) {
        await sleep(1000);
        const t = cpuTicks(pid);
        const at = performance.now();
        cpuWindows.push(((t - lastTicks) / hz / ((at - lastAt) / 1000)) * 100);
        lastTicks = t;
        lastAt = at;
        rss.push(rssMb(pid));
      }
      const wall = (performance.now() - w0) / 1000;
      const cpu = ((cpuTicks(pid) - cpu0) / hz / wall) * 100;
      const m1 = await scrape(metricsPort);
      const samplesPerS = (samples() - s0) / wall;
      const wardMb =
        ((m1.get('vitalwire_gateway_outbox_appended_bytes_total') ?? 0) -
          (m0.get('vitalwire_gateway_outbox_appended_bytes_total') ?? 0)) /
        1e6 /
        wall;
      const liveRate =
        ((m1.get('vitalwire_gateway_published_total:live') ?? 0) -
          (m0.get('vitalwire_gateway_published_total:live') ?? 0)) /
        wall;
      const fsyncs =
        ((m1.get('vitalwire_gateway_outbox_fsyncs_total') ?? 0) -
          (m0.get('vitalwire_gateway_outbox_fsyncs_total') ?? 0)) /
        wall;
      log(
        `steady: cpu ${cpu.toFixed(1)} % (windows ${Math.min(...cpuWindows).toFixed(1)}-${Math.max(...cpuWindows).toFixed(1)}), rss ${median(rss).toFixed(0)} MB (max ${Math.max(...rss).toFixed(0)}), ` +
          `${Math.round(samplesPerS)} samples/s, ${liveRate.toFixed(0)} msgs/s, outbox ${wardMb.toFixed(2)} MB/s, ${fsyncs.toFixed(0)} fsyncs/s; ward: ${w.progress()}`,
      );

      out.push(figure({ bench: 'gateway', metric: 'cpu_pct_one_core', value: cpu, unit: '%' }));
      out.push(figure({ bench: 'gateway', metric: 'rss_mb', value: median(rss), unit: 'MB' }));
      out.push(figure({ bench: 'gateway', metric: 'rss_mb_max', value: Math.max(...rss), unit: 'MB' }));
      out.push(figure({ bench: 'gateway', metric: 'ward_samples_per_s', value: samplesPerS, unit: 'samples/s' }));
      out.push(figure({ bench: 'gateway', metric: 'live_msgs_per_s', value: liveRate, unit: 'msgs/s' }));

      // Outage: the ward keeps sending into the outbox; then the broker returns and the backlog is replayed.
      log(`broker down for ${outageS} s`);
      await rig.stopBroker();
      await sleep(outageS * 1000);
      const backfill0 = rig.tally.backfill;
      rig.tally.firstBackfillMs = 0;
      await rig.startBroker();
      const deadline = Date.now() + 300_000;
      for (;;) {
        await sleep(500);
        const m = await scrape(metricsPort);
        const depth = m.get('vitalwire_gateway_outbox_queue_depth') ?? 0;
        if (rig.tally.backfill > backfill0 && depth < 100 && Date.now() - rig.tally.lastBackfillMs > 1000) break;
        if (Date.now() > deadline) throw new Error('backlog not drained within 300 s');
      }
      const replayed = rig.tally.backfill - backfill0;
      const replayRate = replayed / Math.max(0.001, (rig.tally.lastBackfillMs - rig.tally.firstBackfillMs) / 1000);
      log(
        `replayed ${replayed} backfill messages at ${replayRate.toFixed(0)} msgs/s (publish.replayMessagesPerSecond paces it; default 400)`,
      );
      out.push(
        figure({
          bench: 'gateway',
          metric: 'replay_msgs_per_s',
          value: replayRate,
          unit: 'msgs/s',
          peer: 'live msgs/s',
          peerValue: liveRate,
        }),
      );

      log('outbox capacity (in process, 64 producers, group commit + fdatasync)');
      const capacity = await outboxCapacity(quick ? 3 : 10);
      out.push(
        figure({
          bench: 'gateway',
          metric: 'outbox_mb_per_s',
          value: capacity,
          unit: 'MB/s',
          peer: 'ward write rate',
          peerValue: wardMb,
        }),
      );
      return out;
    } finally {
      await ward?.stop();
      if (child && child.exitCode === null) {
        const c = child;
        const exited = new Promise((r) => c.once('exit', r));
        c.kill('SIGTERM');
        await Promise.race([exited, sleep(15_000)]);
        if (c.exitCode === null) c.kill('SIGKILL');
      }
      await rig.close();
    }
  },
};
