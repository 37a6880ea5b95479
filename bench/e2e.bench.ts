// End-to-end latency under a ward's load: simulated monitors (vitals 1 Hz, ECG/pleth/resp chunks every 256 ms,
// NIBP and temperature) write into ptys -> gateway (serialport, MLLP, HL7 decode, protobuf) -> TLS MQTT QoS 1 ->
// Aedes -> fan-out -> WebSocket -> client decode. Measured first at a Node ws client watching every bed, then, when
// Chromium is present, inside the dashboard's ward view with every bed's ECG sweeping (its frame rate too). The two
// phases run one after the other: on a 2-core machine a browser repainting 16 sweeps 60 times a second takes CPU
// the pipeline would otherwise have (in use the browser runs on another machine). Latency runs from the monitor's
// write (numerics: the device time they carry; waveforms: the write of the chunk's frame) to arrival. Peer: the
// same frames over a bare pty pair read with serialport, i.e. what the cable alone costs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { startStack } from '../cli/stack.js';
import { silentLogger } from '../lib/log.js';
import { buildPcd01Frame } from '../simulators/hl7-monitor.js';
import { openPtyPair, socatAvailable } from '../simulators/pty.js';
import { openSerialSink } from '../simulators/sinks.js';
import { nowUs } from '../gateway/device-link.js';
import { connectWs } from '../test/ws-client.js';
import { chromiumAvailable, launchChromium } from '../test/browser.js';
import { Kind } from '../proto/index.js';
import { figure } from './lib/report.js';
import { percentile } from './lib/stats.js';
import type { Bench, BenchResult } from './lib/types.js';

async function ptyPeer(dir: string, frames: number, intervalMs: number): Promise<number[]> {
  const pair = await openPtyPair(dir, 'peer');
  const sink = await openSerialSink(pair.device);
  const port = new SerialPort({ path: pair.host, baudRate: 115200, autoOpen: false });
  await new Promise<void>((res, rej) => port.open((e) => (e ? rej(e) : res())));
  const lat: number[] = [];
  let sentAt = 0;
  port.on('data', (b: Buffer) => {
    // One frame per interval: its closing FS CR marks arrival of the whole frame.
    if (b[b.length - 1] === 0x0d && sentAt > 0) {
      lat.push((nowUs() - sentAt) / 1000);
      sentAt = 0;
    }
  });
  for (let i = 0; i < frames; i++) {
    const t = nowUs();
    sentAt = t;
    sink.write(
      buildPcd01Frame(
        { eui64: '0256570000000099', model: 'PEER', bed: 'x' },
        { hr: 70, spo2: 97, rr: 14, pulse: 70 },
        { controlId: `P${i}`, timeUs: t },
      ),
    );
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  await new Promise<void>((res) => port.close(() => res()));
  await sink.close();
  await pair.close();
  return lat;
}

export const bench: Bench = {
  name: 'e2e',
  description:
    "latency from a simulated monitor's write to a dashboard (ws and Chromium) on a ward with waveforms, vs a bare pty",
  async run({ quick, log }): Promise<BenchResult[]> {
    if (!socatAvailable()) throw new Error('e2e bench needs socat (apt-get install socat)');
    const dir = mkdtempSync(join(tmpdir(), 'vw-bench-e2e-'));
    const beds = quick ? 4 : 16;
    const seconds = quick ? 8 : 30;
    // Waveform frames by (bed, chunk start): when the monitor wrote them.
    const waveWrites = new Map<string, number>();
    const stack = await startStack({
      dataDir: dir,
      mqttPort: 0,
      httpPort: 0,
      beds,
      intervalMs: 1000,
      logger: silentLogger(),
      onWave: (bed, startUs, writtenUs) => {
        if (waveWrites.size > 100_000) waveWrites.clear();
        waveWrites.set(`bed${String(bed).padStart(2, '0')}/${startUs}`, writtenUs);
      },
    });
    const out: BenchResult[] = [];
    try {
      const lat: number[] = [];
      const waveLat: number[] = [];
      let measuring = false;
      let batches = 0;
      const { ws } = await connectWs(
        stack.fanout.url,
        stack.token,
        (r) => {
          if (!measuring) return;
          batches++;
          const o = r.batch.observations[0];
          if (r.batch.kind === Kind.KIND_OBS && o?.time?.deviceTimeUs)
            lat.push((r.atUs - Number(o.time.deviceTimeUs)) / 1000);
          if (r.batch.kind === Kind.KIND_WAVE) {
            for (const w of r.batch.waves.slice(0, 1)) {
              const written = waveWrites.get(`${r.batch.source?.device ?? ''}/${Number(w.time?.deviceTimeUs ?? 0)}`);
              if (written !== undefined) waveLat.push((r.atUs - written) / 1000);
            }
          }
        },
        { backfill: { obsMs: 0, waveMs: 0, alarmMs: 0 } },
      );
      log(`${beds} monitors (vitals 1 Hz, waves 4 Hz, NIBP/temperature) for ${seconds} s, ws client`);
      // Warm-up: TLS sessions and JIT are not steady state.
      await new Promise((r) => setTimeout(r, 3000));
      measuring = true;
      await new Promise((r) => setTimeout(r, seconds * 1000));
      measuring = false;
      ws.close();

      let browserLat: number[] = [];
      let fps = 0;
      if (chromiumAvailable()) {
        const browser = await launchChromium();
        try {
          // A modest laptop's screen: the ward with every bed's ECG sweeping.
          const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
          await page.goto(stack.dashboardUrl);
          await page.fill('input[name=user]', 'demo');
          await page.fill('input[name=password]', 'demo');
          await page.click('#login-form button[type=submit]');
          await page.waitForFunction((n) => document.querySelectorAll('.tile').length === n, beds, { timeout: 20_000 });
          const browserSeconds = Math.min(seconds, quick ? 8 : 15);
          log(`Chromium showing the ward (${beds} sweeps) for ${browserSeconds} s`);
          await new Promise((r) => setTimeout(r, 3000)); // first paints, history
          type Diag = { count: number; frames: number; latencyMs: Float64Array };
          const f0 = await page.evaluate(() => {
            const d = (globalThis as unknown as { __vitalwire: Diag }).__vitalwire;
            d.count = 0;
            return { frames: d.frames, t: performance.now() };
          });
          await new Promise((r) => setTimeout(r, browserSeconds * 1000));
          const r = await page.evaluate(() => {
            const d = (globalThis as unknown as { __vitalwire: Diag }).__vitalwire;
            return {
              lat: Array.from(d.latencyMs.subarray(0, Math.min(d.count, d.latencyMs.length))),
              frames: d.frames,
              t: performance.now(),
            };
          });
          browserLat = r.lat;
          fps = ((r.frames - f0.frames) * 1000) / (r.t - f0.t);
        } finally {
          await browser.close();
        }
      } else log('no Chromium: browser figures skipped');
      const peer = await ptyPeer(dir, quick ? 20 : 60, 50);
      log(
        `samples: ws ${lat.length} numerics + ${waveLat.length} waveform of ${batches} Batches, browser ${browserLat.length}, pty peer ${peer.length}`,
      );
      const peerP50 = percentile(peer, 50);
      const peerP99 = percentile(peer, 99);
      out.push(
        figure({
          bench: 'e2e',
          metric: 'latency_p50_ms',
          value: percentile(lat, 50),
          unit: 'ms',
          peer: 'bare pty',
          peerValue: peerP50,
        }),
      );
      out.push(
        figure({
          bench: 'e2e',
          metric: 'latency_p99_ms',
          value: percentile(lat, 99),
          unit: 'ms',
          peer: 'bare pty',
          peerValue: peerP99,
        }),
      );
      if (waveLat.length > 0) {
        out.push(
          figure({
            bench: 'e2e',
            metric: 'wave_latency_p50_ms',
            value: percentile(waveLat, 50),
            unit: 'ms',
            peer: 'bare pty',
            peerValue: peerP50,
          }),
        );
        out.push(
          figure({
            bench: 'e2e',
            metric: 'wave_latency_p99_ms',
            value: percentile(waveLat, 99),
            unit: 'ms',
            peer: 'bare pty',
            peerValue: peerP99,
          }),
        );
      }
      if (browserLat.length > 0) {
        out.push(
          figure({
            bench: 'e2e',
            metric: 'browser_latency_p50_ms',
            value: percentile(browserLat, 50),
            unit: 'ms',
            peer: 'bare pty',
            peerValue: peerP50,
          }),
        );
        out.push(
          figure({
            bench: 'e2e',
            metric: 'browser_latency_p99_ms',
            value: percentile(browserLat, 99),
            unit: 'ms',
            peer: 'bare pty',
            peerValue: peerP99,
          }),
        );
      }
      if (fps > 0) out.push(figure({ bench: 'e2e', metric: 'browser_fps', value: fps, unit: 'frames/s' }));
    } finally {
      await stack.close();
      rmSync(dir, { recursive: true, force: true });
    }
    return out;
  },
};
