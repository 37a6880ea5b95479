// Event-loop delay of a broker under the bench, for profiling runs: loaded into the broker's node with
// VW_BENCH_BROKER_NODE_FLAGS="--import ./bench/event-loop-delay.mjs". Every second it appends one JSON line
// (pid, p50, p99, max and mean delay in ms over that second, from perf_hooks.monitorEventLoopDelay at 10 ms
// resolution; the 10 ms resolution is included in each figure), and the process's memory (process.memoryUsage(), in KiB)
// to VW_BENCH_ELD_FILE (default /tmp/vw-eld-<pid>.jsonl), then starts a new second.
import { appendFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const h = monitorEventLoopDelay({ resolution: 10 });
h.enable();
const file = process.env.VW_BENCH_ELD_FILE ?? `/tmp/vw-eld-${process.pid}.jsonl`;
const ms = (ns) => Math.round(ns / 1e4) / 100;
setInterval(() => {
  const line = { pid: process.pid, t: Date.now(), p50: ms(h.percentile(50)), p99: ms(h.percentile(99)) };
  const kib = Object.fromEntries(Object.entries(process.memoryUsage()).map(([k, v]) => [k, v >> 10]));
  appendFileSync(file, JSON.stringify({ ...line, max: ms(h.max), mean: ms(h.mean), ...kib }) + '\n');
  h.reset();
}, 1000).unref();
