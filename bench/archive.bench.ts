// archive: ingest rate of the embedded store, end to end (journal with group commit and fdatasync, done() for every
// Batch, loader decode and rows, DuckDB, Parquet checkpoint with fsync), on the numerics of 1,000 facilities (5
// monitors each, 10 values per Batch); peer: the same rows written into the store with no journal (what durability
// before PUBACK costs). Then a bed-day query: a bed's 24 h trend (4 min buckets) and its rows, over a day of one
// monitor at one Batch per 5 s among the other traffic; peer: the same trend from a JSON-lines file scanned in JS.
// Goal (issue 17): >= 50,000 observations/s ingested.
import { createReadStream } from 'node:fs';
import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { silentLogger } from '../lib/log.js';
import { openArchive } from '../archive/archive.js';
import { BindingIndex, setBinding, listBindings } from '../archive/bindings.js';
import { selectRows, trend } from '../archive/query.js';
import { toRows } from '../archive/rows.js';
import { openDuckDbStore } from '../archive/store/duckdb.js';
import { vitalsBatch, type Published } from '../archive/test-kit.js';
import { figure } from './lib/report.js';
import { median } from './lib/stats.js';
import type { Bench, BenchOptions, BenchResult } from './lib/types.js';

const NAME = 'archive';
const T0 = Date.UTC(2026, 0, 15) * 1000;

/** Batches of `facilities` x 5 monitors x `seconds`, 10 numerics each (HR, SpO2, RR, temp, BP x 3 + 3 more HR-like). */
function workload(facilities: number, seconds: number): { batches: Published[]; obs: number } {
  const batches: Published[] = [];
  let obs = 0;
  for (let s = 0; s < seconds; s++) {
    for (let f = 0; f < facilities; f++) {
      for (let m = 0; m < 5; m++) {
        const p = vitalsBatch({ site: `site${f}`, gateway: 'gw1', device: `mon${m}` }, s + 1, T0 + s * 1e6 + m * 1000, {
          hr: 60 + (s % 40),
          spo2: 95 + (s % 4),
          rr: 14,
          temp: 36.9,
          sys: 120,
          dia: 80,
          mean: 93,
        });
        batches.push(p);
        obs += 7;
      }
    }
  }
  return { batches, obs };
}

/** Wall time and CPU time (this process, every thread: JS, DuckDB's workers, fsyncs) of one ingest, in ms. */
async function ingestTrial(batches: readonly Published[], journal: boolean): Promise<{ ms: number; cpuMs: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'vw-bench-archive-'));
  try {
    const store = await openDuckDbStore({ dir, logger: silentLogger() });
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const cpuMs = (): number => {
      const c = process.cpuUsage(cpu0);
      return (c.user + c.system) / 1000;
    };
    if (journal) {
      const a = await openArchive({
        dataDir: dir,
        store,
        logger: silentLogger(),
        tuning: { loadIntervalMs: 60_000, checkpointIntervalMs: 3_600_000, checkpointRows: 1e9 },
      });
      await new Promise<void>((resolve, reject) => {
        let left = batches.length;
        for (const p of batches) a.append(p.topic, p.payload, (err) => (err ? reject(err) : --left === 0 && resolve()));
      });
      await a.flush(); // loaded, written to Parquet, fsynced, named in the manifest
      const ms = performance.now() - t0;
      const cpu = cpuMs();
      await a.close();
      return { ms, cpuMs: cpu };
    }
    for (let i = 0; i < batches.length; i += 2000) {
      const rows = batches.slice(i, i + 2000).map((p) => {
        const r = toRows(p.topic, p.payload, 1);
        if (!r.ok) throw new Error(r.reason);
        return r.rows;
      });
      await store.write(rows);
    }
    await store.checkpoint();
    const ms = performance.now() - t0;
    const cpu = cpuMs();
    await store.close();
    return { ms, cpuMs: cpu };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function run(opts: BenchOptions): Promise<BenchResult[]> {
  const trials = opts.quick ? 3 : 7;
  const { batches, obs } = workload(1000, opts.quick ? 4 : 20);
  opts.log(`ingest: ${batches.length} Batches, ${obs} observations per trial, ${trials} trials`);
  const ours: number[] = [];
  const peer: number[] = [];
  const oursCpu: number[] = [];
  const peerCpu: number[] = [];
  for (let t = 0; t < trials; t++) {
    const a = await ingestTrial(batches, true);
    const b = await ingestTrial(batches, false);
    ours.push(obs / (a.ms / 1000));
    peer.push(obs / (b.ms / 1000));
    oursCpu.push(obs / (a.cpuMs / 1000));
    peerCpu.push(obs / (b.cpuMs / 1000));
    opts.log(
      `  trial ${t + 1}: archive ${Math.round(obs / (a.ms / 1000))} obs/s (${Math.round(obs / (a.cpuMs / 1000))} per CPU-second), ` +
        `store without journal ${Math.round(obs / (b.ms / 1000))} obs/s (${Math.round(obs / (b.cpuMs / 1000))} per CPU-second)`,
    );
  }
  const results: BenchResult[] = [
    figure({
      bench: NAME,
      metric: 'ingest_obs_per_s',
      value: median(ours),
      unit: 'obs/s',
      peer: 'store without journal',
      peerValue: median(peer),
    }),
    // The same work per CPU-second of this process: on a shared machine the wall-clock rate says more about the
    // neighbours than about the archive; this figure does not move with them.
    figure({
      bench: NAME,
      metric: 'ingest_obs_per_cpu_s',
      value: median(oursCpu),
      unit: 'obs/CPU-s',
      peer: 'store without journal',
      peerValue: median(peerCpu),
    }),
  ];

  // A bed-day: one monitor at one Batch per 5 s for 24 h, bound to a bed, among 20 other monitors.
  const dir = await mkdtemp(join(tmpdir(), 'vw-bench-bedday-'));
  const jsonl = join(dir, 'peer.jsonl');
  try {
    const store = await openDuckDbStore({ dir, logger: silentLogger() });
    const step = opts.quick ? 30e6 : 5e6;
    const n = Math.floor(86_400e6 / step);
    for (let d = 0; d <= 20; d++) {
      const dev = { site: 'site0', gateway: 'gw1', device: `bed${d}` };
      let lines = '';
      const rows = [];
      for (let i = 0; i < n; i++) {
        const p = vitalsBatch(dev, i + 1, T0 + i * step, { hr: 60 + (i % 50), spo2: 97, rr: 15 });
        const r = toRows(p.topic, p.payload, 1);
        if (!r.ok) throw new Error(r.reason);
        rows.push(r.rows);
        for (const o of r.rows.obs)
          lines += `${JSON.stringify({ device: o.device, t_us: o.t_us, mdc: o.mdc, v: o.value_number })}\n`;
      }
      await store.write(rows);
      await appendFile(jsonl, lines);
    }
    await store.checkpoint();
    await setBinding(store.audit, 'bench', {
      site: 'site0',
      gateway: 'gw1',
      device: 'bed7',
      bed: 'ICU-7',
      patient: 'SIM-1',
      fromUs: T0,
    });
    const idx = new BindingIndex(await listBindings(store.audit));
    const day = { bed: 'ICU-7', fromUs: T0, toUs: T0 + 86_400e6 };
    const trendMs: number[] = [];
    const rowsMs: number[] = [];
    const peerMs: number[] = [];
    let points = 0;
    for (let t = 0; t < trials; t++) {
      let t0 = performance.now();
      const tr = await trend(store, idx, day, 240e6);
      trendMs.push(performance.now() - t0);
      points = tr.series.reduce((k, s) => k + s.points.filter((p) => p !== null).length, 0);
      t0 = performance.now();
      const rows = await selectRows(store, idx, 'obs', day);
      rowsMs.push(performance.now() - t0);
      t0 = performance.now();
      const buckets = new Map<string, { n: number; sum: number }>();
      for await (const line of createInterface({ input: createReadStream(jsonl) })) {
        const o = JSON.parse(line) as { device: string; t_us: number; mdc: number; v: number };
        if (o.device !== 'bed7') continue;
        const k = `${o.mdc}/${Math.floor((o.t_us - T0) / 240e6)}`;
        const b = buckets.get(k) ?? { n: 0, sum: 0 };
        b.n++;
        b.sum += o.v;
        buckets.set(k, b);
      }
      peerMs.push(performance.now() - t0);
      if (buckets.size !== points) throw new Error(`peer found ${buckets.size} buckets, the archive ${points}`);
      opts.log(
        `  bed-day trial ${t + 1}: trend ${trendMs.at(-1)!.toFixed(1)} ms (${points} points), rows ${rowsMs.at(-1)!.toFixed(1)} ms (${rows.length}), JSONL scan ${peerMs.at(-1)!.toFixed(1)} ms`,
      );
    }
    await store.close();
    results.push(
      figure({
        bench: NAME,
        metric: 'bed_day_trend_ms',
        value: median(trendMs),
        unit: 'ms',
        peer: 'JSON lines scan',
        peerValue: median(peerMs),
      }),
      figure({ bench: NAME, metric: 'bed_day_rows_ms', value: median(rowsMs), unit: 'ms' }),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return results;
}

export const bench: Bench = {
  name: NAME,
  description: 'archive ingest rate (journal + DuckDB/Parquet) and bed-day query time',
  run,
};
