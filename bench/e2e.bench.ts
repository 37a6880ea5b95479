// End-to-end latency: simulated monitor write -> pty -> gateway (serialport, MLLP, HL7 decode,
// protobuf) -> TLS MQTT QoS 1 -> Aedes -> fan-out -> WebSocket -> client decode. Measured at a
// Node ws client and, when Chromium is present, inside the real dashboard page. Peer: the same
// frames over a bare pty pair read with serialport, i.e. what the cable alone costs.
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
    sink.write(buildPcd01Frame({ eui64: '0256570000000099', model: 'PEER', bed: 'x' }, { hr: 70, spo2: 97, rr: 14, pulse: 70 }, { controlId: `P${i}`, timeUs: t }));
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  await new Promise<void>((res) => port.close(() => res()));
  await sink.close();
  await pair.close();
  return lat;
}

export const bench: Bench = {
  name: 'e2e',
  description: 'latency from a simulated monitor\'s write to a dashboard client (ws and Chromium), vs a bare pty',
  async run({ quick, log }): Promise<BenchResult[]> {
    if (!socatAvailable()) throw new Error('e2e bench needs socat (apt-get install socat)');
    const dir = mkdtempSync(join(tmpdir(), 'vw-bench-e2e-'));
    const beds = quick ? 4 : 16;
    const seconds = quick ? 8 : 30;
    const stack = await startStack({ dataDir: dir, mqttPort: 0, httpPort: 0, beds, intervalMs: 1000, logger: silentLogger() });
    const out: BenchResult[] = [];
    try {
      const lat: number[] = [];
      let measuring = false;
      const { ws } = await connectWs(stack.fanout.url, stack.token, (r) => {
        const o = r.batch.observations[0];
        if (measuring && r.batch.kind === Kind.KIND_OBS && o?.time?.deviceTimeUs) lat.push((r.atUs - Number(o.time.deviceTimeUs)) / 1000);
      });
      const browser = chromiumAvailable() ? await launchChromium() : undefined;
      const page = browser ? await browser.newPage() : undefined;
      if (page) await page.goto(stack.dashboardUrl);
      log(`${beds} monitors at 1 Hz for ${seconds} s${browser ? ', with Chromium' : ' (no Chromium: ws client only)'}`);
      // Warm-up: TLS sessions, JIT and Chromium's first paint are not steady state.
      await new Promise((r) => setTimeout(r, 3000));
      measuring = true;
      if (page) await page.evaluate(() => void ((globalThis as unknown as { __vitalwire: { count: number } }).__vitalwire.count = 0));
      await new Promise((r) => setTimeout(r, seconds * 1000));
      ws.close();
      let browserLat: number[] = [];
      if (page) {
        browserLat = await page.evaluate(() => {
          const d = (globalThis as unknown as { __vitalwire: { latencyMs: Float64Array; count: number } }).__vitalwire;
          return Array.from(d.latencyMs.subarray(0, Math.min(d.count, d.latencyMs.length)));
        });
      }
      await browser?.close();
      const peer = await ptyPeer(dir, quick ? 20 : 60, 50);
      log(`samples: ws ${lat.length}, browser ${browserLat.length}, pty peer ${peer.length}`);
      const peerP50 = percentile(peer, 50);
      const peerP99 = percentile(peer, 99);
      out.push(figure({ bench: 'e2e', metric: 'latency_p50_ms', value: percentile(lat, 50), unit: 'ms', peer: 'bare pty', peerValue: peerP50 }));
      out.push(figure({ bench: 'e2e', metric: 'latency_p99_ms', value: percentile(lat, 99), unit: 'ms', peer: 'bare pty', peerValue: peerP99 }));
      if (browserLat.length > 0) {
        out.push(figure({ bench: 'e2e', metric: 'browser_latency_p50_ms', value: percentile(browserLat, 50), unit: 'ms', peer: 'bare pty', peerValue: peerP50 }));
        out.push(figure({ bench: 'e2e', metric: 'browser_latency_p99_ms', value: percentile(browserLat, 99), unit: 'ms', peer: 'bare pty', peerValue: peerP99 }));
      }
    } finally {
      await stack.close();
      rmSync(dir, { recursive: true, force: true });
    }
    return out;
  },
};
