// gateway: a simulated 50-monitor ward (each: ECG 500 Hz x 3 leads, pleth 125 Hz, resp 62.5 Hz, numerics 1 Hz; one
// PCD-01 message per 250 ms) through real links into the gateway and out to a local TLS broker. The gateway runs as
// its own process (`vitalwire gateway --config`), so its CPU and RSS are read from /proc without the simulators' and
// the broker's. Half the monitors sit behind terminal-server ports the gateway dials (tcp), half dial the gateway's
// MLLP listeners and wait for each ACK (which waits for the fsync). Figures:
//   cpu_pct_one_core, rss_mb     steady state under the ward (target: <= 25 % of one core, <= 150 MB)
//   outbox_mb_per_s              the outbox's sustained append rate with group commit and fsync, in process, peer:
//                                what the ward needs (measured from the gateway's metrics in the same run)
//   replay_msgs_per_s            backfill published after a broker outage while the ward keeps sending, peer: live rate
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Outbox } from '../gateway/outbox/outbox.js';
import { silentLogger } from '../lib/log.js';
import { wardMllpMonitor, wardTcpMonitor, WARD_MESSAGE_MS } from '../simulators/ward.js';
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
  const box = await Outbox.open({ dir, site: 's', gateway: 'g', quotaBytes: 8 * 1024 ** 3, segmentBytes: 8 * 1024 * 1024, commitDelayMs: 5,
    commitMaxBytes: 1024 * 1024, logger: silentLogger() });
  const samples = Array.from({ length: 375 }, (_, i) => ((i * 37) % 2000) - 1000); // 250 ms of 3 ECG leads
  const waves = [0, 1, 2].map((l) => ({ mdc: 131329 + l, refid: 'MDC_ECG_ELEC_POTL', sampleRateHz: 500, scale: 0.001, unit: 'mV', samples: samples.slice(l * 125, l * 125 + 125) }));
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  const producer = async (p: number) => {
    for (let i = 0; performance.now() < end; i++) {
      await box.append({ source: { site: 's', gateway: 'g', device: `bed${p}` }, kind: 'wave', fromUs: i, toUs: i, body: { waves } });
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
  description: 'a 50-monitor ward through TCP/MLLP links into the gateway process and out to a TLS broker: CPU, RSS, outbox MB/s, replay rate',
  async run({ quick, log }): Promise<BenchResult[]> {
    const warmS = quick ? 5 : 10;
    const measureS = quick ? 10 : 30;
    const outageS = quick ? 5 : 20;
    const rig = new Rig('bench-gw', { keep: false });
    let child: ChildProcess | null = null;
    const tcpMonitors: Awaited<ReturnType<typeof wardTcpMonitor>>[] = [];
    const mllpMonitors: ReturnType<typeof wardMllpMonitor>[] = [];
    let ticker: NodeJS.Timeout | null = null;
    const out: BenchResult[] = [];
    try {
      await rig.startBroker();
      const half = MONITORS / 2;
      // VW_BENCH_ECG_LEADS=10 gives ~256k samples/s (10 leads x 500 Hz + pleth + resp per monitor); the default 3 leads ~84k.
      const ecgLeads = Number(process.env['VW_BENCH_ECG_LEADS'] ?? 3);
      for (let i = 1; i <= half; i++) tcpMonitors.push(await wardTcpMonitor(i, { ecgLeads }));
      const mllpPorts: number[] = [];
      for (let i = 0; i < MONITORS - half; i++) mllpPorts.push(await freePort());
      const metricsPort = await freePort();
      const devices = [
        ...tcpMonitors.map((m) => ({ id: `bed${String(m.monitor.index).padStart(2, '0')}`, protocol: 'hl7', transport: { kind: 'tcp' as const, host: '127.0.0.1', port: m.port } })),
        ...mllpPorts.map((port, k) => ({ id: `bed${String(half + k + 1).padStart(2, '0')}`, protocol: 'hl7',
          transport: { kind: 'mllp-listener' as const, host: '127.0.0.1', port, allowedPeers: ['127.0.0.1'] } })),
      ];
      const file = join(rig.dir, 'gateway.json');
      writeFileSync(file, JSON.stringify(rig.config(devices, { metrics: { host: '127.0.0.1', port: metricsPort } })));
      // The gateway runs with the V8 options of the systemd unit (deploy/vitalwire-gateway.service), as deployed.
      const unit = readFileSync(join(import.meta.dirname, '..', 'deploy', 'vitalwire-gateway.service'), 'utf8');
      const nodeFlags = (process.env['VW_BENCH_NODE_FLAGS'] ?? /^Environment="NODE_OPTIONS=([^"]*)"/m.exec(unit)?.[1] ?? '').split(' ').filter(Boolean);
      log(`gateway node options: ${nodeFlags.join(' ') || '(none)'}`);
      // VW_BENCH_GATEWAY_RUNNER=tsx runs the sources through tsx instead of dist/ (how every start ran before the build).
      const runner = process.env['VW_BENCH_GATEWAY_RUNNER'] === 'tsx' ? ['--import', 'tsx', join(import.meta.dirname, 'lib', 'tsx-entry.ts')] : [BIN];
      log(`gateway runs ${runner.join(' ')}`);
      child = spawn(process.execPath, [...nodeFlags, ...runner, 'gateway', '--config', file], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, VW_LOG_LEVEL: 'warn' } });
      const pid = child.pid ?? 0;
      await until(() => rig.tally.messages > 0, 'the gateway publishing', 30_000);
      mllpPorts.forEach((port, k) => mllpMonitors.push(wardMllpMonitor(half + k + 1, port, { ecgLeads })));
      // Each monitor on its own 250 ms schedule, staggered across the interval as real monitors are.
      const t0 = performance.now();
      const next = new Array<number>(MONITORS).fill(0).map((_, i) => t0 + (i * WARD_MESSAGE_MS) / MONITORS);
      const ticks = [...tcpMonitors.map((m) => m.tick), ...mllpMonitors.map((m) => m.tick)];
      ticker = setInterval(() => {
        const now = performance.now();
        const us = Math.round((performance.timeOrigin + now) * 1000);
        for (let i = 0; i < MONITORS; i++) {
          if ((next[i] ?? 0) > now) continue;
          ticks[i]?.(us);
          next[i] = (next[i] ?? 0) + WARD_MESSAGE_MS;
          if ((next[i] ?? 0) < now) next[i] = now + WARD_MESSAGE_MS; // never a burst to catch up
        }
      }, 5);
      const samples = () => [...tcpMonitors, ...mllpMonitors].reduce((a, m) => a + m.monitor.samplesSent, 0);
      log(`ward of ${MONITORS} monitors (${half} tcp, ${MONITORS - half} mllp), ECG ${ecgLeads} leads; warm-up ${warmS} s`);
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
      const wardMb = ((m1.get('vitalwire_gateway_outbox_appended_bytes_total') ?? 0) - (m0.get('vitalwire_gateway_outbox_appended_bytes_total') ?? 0)) / 1e6 / wall;
      const liveRate = ((m1.get('vitalwire_gateway_published_total:live') ?? 0) - (m0.get('vitalwire_gateway_published_total:live') ?? 0)) / wall;
      const fsyncs = ((m1.get('vitalwire_gateway_outbox_fsyncs_total') ?? 0) - (m0.get('vitalwire_gateway_outbox_fsyncs_total') ?? 0)) / wall;
      const late = mllpMonitors.reduce((a, m) => a + m.late, 0);
      log(`steady: cpu ${cpu.toFixed(1)} % (windows ${Math.min(...cpuWindows).toFixed(1)}-${Math.max(...cpuWindows).toFixed(1)}), rss ${median(rss).toFixed(0)} MB (max ${Math.max(...rss).toFixed(0)}), ` +
        `${Math.round(samplesPerS)} samples/s, ${liveRate.toFixed(0)} msgs/s, outbox ${wardMb.toFixed(2)} MB/s, ${fsyncs.toFixed(0)} fsyncs/s, mllp ticks skipped waiting for an ACK: ${late}`);

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
      log(`replayed ${replayed} backfill messages at ${replayRate.toFixed(0)} msgs/s (publish.replayMessagesPerSecond paces it; default 400)`);
      out.push(figure({ bench: 'gateway', metric: 'replay_msgs_per_s', value: replayRate, unit: 'msgs/s', peer: 'live msgs/s', peerValue: liveRate }));

      log('outbox capacity (in process, 64 producers, group commit + fdatasync)');
      const capacity = await outboxCapacity(quick ? 3 : 10);
      out.push(figure({ bench: 'gateway', metric: 'outbox_mb_per_s', value: capacity, unit: 'MB/s', peer: 'ward write rate', peerValue: wardMb }));
      return out;
    } finally {
      if (ticker) clearInterval(ticker);
      for (const m of mllpMonitors) m.close();
      if (child && child.exitCode === null) {
        const c = child;
        const exited = new Promise((r) => c.once('exit', r));
        c.kill('SIGTERM');
        await Promise.race([exited, sleep(15_000)]);
        if (c.exitCode === null) c.kill('SIGKILL');
      }
      for (const m of tcpMonitors) await m.close();
      await rig.close();
    }
  },
};
