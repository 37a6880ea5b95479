// Issue 15, "a gateway that diagnoses itself": a district engineer plugs oximeters into a gateway and must be told at
// the gateway what is wrong. On real parts: socat ptys, the compiled gateway (bin/vitalwire runs dist/), a TLS Aedes
// broker, `vitalwire gateway status` and `vitalwire gateway probe` as a user runs them. A pty ignores the baud rate,
// so the devices that need one send through test/serial-wire.ts, which hands the gateway what a UART set as the
// gateway set its port would receive (gateway/diagnosis-uart.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AedesPublishPacket } from 'aedes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNonin8Frame } from '../decoders/nonin/encode.js';
import { gatewayConfig } from '../gateway/config.js';
import type { GatewayReport } from '../gateway/diagnosis-status.js';
import { startGateway } from '../gateway/gateway.js';
import { freePort } from '../lib/listen.js';
import { silentLogger } from '../lib/log.js';
import { parseStreamTopic } from '../lib/topics.js';
import { Batch, LinkState, type IDeviceStatus } from '../proto/index.js';
import { openPtyPair, socatAvailable, type PtyPair } from '../simulators/pty.js';
import { Rig, until } from './chaos/harness.js';
import { openSerialWire, type SerialWire } from './serial-wire.js';

const BIN = join(import.meta.dirname, '..', 'bin', 'vitalwire');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The compiled command, asynchronously (an in-process gateway keeps running meanwhile). */
function vitalwire(args: string[], timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    c.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const t = setTimeout(() => {
      c.kill('SIGKILL');
      reject(new Error(`vitalwire ${args.join(' ')} did not finish; stderr: ${stderr}`));
    }, timeoutMs);
    c.on('exit', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A Nonin 8 oximeter: a 4-byte frame per tick (25 a second here, one a second on a real device; synthetic values). */
function oximeter(write: (b: Buffer) => void, hz = 25): () => void {
  let i = 0;
  const t = setInterval(() => write(encodeNonin8Frame({ hr: 60 + (i++ % 30), spo2: 95 + (i % 4) })), 1000 / hz);
  return () => clearInterval(t);
}

describe.skipIf(!socatAvailable())('gateway diagnosis on real ptys (needs socat)', () => {
  const rig = new Rig('diagnosis');
  const pairs: PtyPair[] = [];
  const stops: (() => void)[] = [];
  const wires: SerialWire[] = [];
  const statuses: { device: string; s: IDeviceStatus }[] = [];
  let child: ChildProcess | null = null;
  const logLines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    await rig.startBroker();
    await new Promise<void>((resolve) =>
      rig.central?.broker.aedes.subscribe(
        'vw/v1/+/+/+/status',
        (packet: AedesPublishPacket, cb: () => void) => {
          const t = parseStreamTopic(packet.topic);
          if (t)
            for (const s of Batch.decode(packet.payload as Buffer).statuses) statuses.push({ device: t.device, s });
          cb();
        },
        resolve,
      ),
    );
    for (const name of ['ox1', 'ox2', 'ox3', 'ox4']) pairs.push(await openPtyPair(rig.dir, name));
  });

  afterAll(async () => {
    for (const s of stops) s();
    for (const w of wires) w.close();
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child?.once('exit', r));
    }
    for (const p of pairs) await p.close();
    await rig.close();
  });

  it('names the problem of each device in `gateway status`, the metrics, the log and the published status', async () => {
    const [p1, p2, p3] = pairs as [PtyPair, PtyPair, PtyPair];
    // ox1: a Nonin 8 oximeter on a link configured as Masimo.
    const w1 = await openSerialWire(p1, { baudRate: 9600 });
    // ox2: a Nonin 8 oximeter at 9600 on a link set to 19200.
    const w2 = await openSerialWire(p2, { baudRate: 9600 });
    // ox3: a Nonin 8 oximeter configured right.
    const w3 = await openSerialWire(p3, { baudRate: 9600 });
    wires.push(w1, w2, w3);
    stops.push(
      oximeter((b) => w1.write(b)),
      oximeter((b) => w2.write(b)),
      oximeter((b) => w3.write(b)),
    );
    const metricsPort = await freePort();
    const file = join(rig.dir, 'gw-diag.json');
    const serial = (path: string, baudRate: number) => ({ kind: 'serial' as const, path, baudRate });
    writeFileSync(
      file,
      JSON.stringify(
        rig.config(
          [
            { id: 'ox1', protocol: 'masimo', transport: serial(p1.host, 9600), silence: { afterMs: 1500 } },
            { id: 'ox2', protocol: 'nonin8', transport: serial(p2.host, 19200), silence: { afterMs: 1500 } },
            { id: 'ox3', protocol: 'nonin8', transport: serial(p3.host, 9600), silence: { afterMs: 1500 } },
          ],
          { metrics: { host: '127.0.0.1', port: metricsPort } },
        ),
      ),
    );
    child = spawn(process.execPath, [BIN, 'gateway', '--config', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, VW_LOG_LEVEL: 'info' },
    });
    let partial = '';
    child.stdout?.on('data', (b: Buffer) => {
      partial += b.toString();
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) if (l.trim()) logLines.push(JSON.parse(l) as Record<string, unknown>);
    });

    // As a user runs it: `vitalwire gateway status --config FILE --json` until every device has its state.
    let report: GatewayReport | null = null;
    const state = (id: string) => report?.devices.find((d) => d.id === id);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const r = await vitalwire(['gateway', 'status', '--config', file, '--json']);
      if (r.code === 0) {
        report = JSON.parse(r.stdout) as GatewayReport;
        if (
          state('ox1')?.state === 'no-frames' &&
          state('ox2')?.suggestion &&
          state('ox3')?.state === 'ok' &&
          report.uplink.connected
        )
          break;
      }
      await new Promise((res) => setTimeout(res, 500));
    }
    expect(state('ox1')).toMatchObject({
      link: 'connected',
      state: 'no-frames',
      suggestion: { protocol: 'nonin8' },
      lastFrame: null,
      silent: true,
    });
    expect(state('ox1')?.diagnosis).toMatch(
      /^\d+ bytes but no valid masimo frame since the link opened \(\d+ s\).*: looks like nonin8 at 9600 baud: set the device's protocol to nonin8$/,
    );
    // Nonin 8 has no checksum: bytes read at twice the rate fit its bit layout and ranges now and then. So the link has
    // no frames, or mostly rejected ones (whose few passing values are flagged questionable): either way the reason.
    expect(state('ox2'), JSON.stringify(report)).toMatchObject({
      suggestion: { baudRate: 9600 },
      transport: `serial ${p2.host} 19200 8N1`,
    });
    expect(['no-frames', 'frame-errors']).toContain(state('ox2')?.state);
    expect(state('ox2')?.diagnosis).toMatch(
      /(no valid nonin8 frame|values flagged questionable).*: looks like a sender at 9600 baud read at 19200 \(every bit read 2 times\): set baudRate 9600/,
    );
    expect(state('ox3')).toMatchObject({ state: 'ok', diagnosis: 'frames OK', silent: false });
    expect(Date.now() - Date.parse(state('ox3')?.lastFrame ?? '')).toBeLessThan(10_000);
    expect(report?.uplink).toMatchObject({ connected: true, reason: null, url: rig.url });
    expect(report?.outbox.depth).toBeGreaterThanOrEqual(0);

    // The same, as a person reads it.
    const human = await vitalwire(['gateway', 'status', '--config', file]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toContain(`uplink: connected to ${rig.url}`);
    expect(human.stdout).toMatch(/^outbox: \d+ batches waiting/m);
    expect(human.stdout).toMatch(
      new RegExp(
        `^device ox1 \\(simulated\\): masimo over serial ${p1.host} 9600 8N1: NO-FRAMES: .*looks like nonin8 at 9600 baud`,
        'm',
      ),
    );
    expect(human.stdout).toMatch(/^ {2}last good frame never;/m);
    expect(human.stdout).toMatch(/^ {2}try: protocol: nonin8$/m);
    expect(human.stdout).toMatch(
      /^device ox3 \(simulated\): nonin8 over serial .* 9600 8N1: OK: frames OK\n {2}last good frame \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \(\d+ s ago\)/m,
    );

    // The metrics: a state gauge per device and the last good frame's time.
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/vitalwire_gateway_device_state\{device="ox1",state="no-frames"[^}]*\} 1/);
    expect(metrics).toMatch(/vitalwire_gateway_device_state\{device="ox1",state="ok"[^}]*\} 0/);
    expect(metrics).toMatch(/vitalwire_gateway_device_state\{device="ox3",state="ok"[^}]*\} 1/);
    const last = /vitalwire_gateway_device_last_frame_timestamp_seconds\{device="ox3"[^}]*\} ([\d.e+]+)/.exec(metrics);
    expect(Math.abs(Number(last?.[1]) * 1000 - Date.now())).toBeLessThan(10_000);
    expect(metrics).toMatch(/vitalwire_gateway_broker_connect_reason\{reason="connected"[^}]*\} 1/);

    // The published SILENT status carries the diagnosis to the dashboards.
    await until(
      () =>
        statuses.some(
          (x) =>
            x.device === 'ox1' &&
            x.s.state === LinkState.LINK_STATE_SILENT &&
            /looks like nonin8/.test(x.s.diagnosis ?? ''),
        ),
      'ox1 SILENT with its diagnosis',
      10_000,
    );

    // The log says it once, not at every evaluation: wait a few more seconds of the same state.
    await new Promise((r) => setTimeout(r, 3000));
    const said = logLines.filter((l) => l['device'] === 'ox1' && typeof l['diagnosis'] === 'string');
    expect(said).toHaveLength(1);
    expect(said[0]?.['diagnosis']).toMatch(/looks like nonin8 at 9600 baud/);
  }, 90_000);

  it('`gateway probe` names nonin8 and its baud rate, and prints the config; on a plain pty it says the rate cannot be told', async () => {
    // The gateway holds the ports: probe says so instead of reading nothing.
    const busy = await vitalwire(['gateway', 'probe', '--device', pairs[1]?.host ?? '', '--seconds', '0.5']);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain('is in use (is the gateway running? stop it first)');
    child?.kill('SIGTERM');
    await new Promise((r) => child?.once('exit', r));

    // ox2 (through the wire, at 9600): only 9600 decodes.
    const r = await vitalwire(['gateway', 'probe', '--device', pairs[1]?.host ?? '', '--seconds', '1.2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ {2}9600 8N1 +\d+ bytes {2}nonin8: \d+ frames \(\d+ % of the bytes\)$/m);
    // Read at twice the rate the bytes carry the 9600 sender's pattern (Nonin 8 frames may fit by chance in them).
    expect(r.stdout).toMatch(/^ {2}19200 8N1 +\d+ bytes {2}.*the bytes show the pattern of a sender at 9600 baud$/m);
    expect(r.stdout).toMatch(/^ {2}4800 8N1 +\d+ bytes {2}nothing decodes$/m);
    expect(r.stdout).toMatch(/^nonin8 decodes at 9600 8N1: use it[ .]/m);
    expect(r.stdout).toContain(
      `    protocol: nonin8\n    transport: { kind: serial, path: ${pairs[1]?.host}, baudRate: 9600 }\n`,
    );

    // ox4: a plain pty, no wire: every rate carries the same bytes.
    const p4 = pairs[3] as PtyPair;
    const { openSerialSink } = await import('../simulators/sinks.js');
    const sink = await openSerialSink(p4.device, 9600);
    stops.push(oximeter((b) => sink.write(b)));
    const plain = await vitalwire(['gateway', 'probe', '--device', p4.host, '--seconds', '0.6', '--json']);
    expect(plain.code, plain.stderr).toBe(0);
    const res = JSON.parse(plain.stdout) as {
      verdict: { protocol: string; rateIgnored: boolean; line: { baudRate: number } };
    };
    expect(res.verdict).toMatchObject({ protocol: 'nonin8', rateIgnored: true, line: { baudRate: 9600 } });
  }, 90_000);

  it('says when nothing arrives at all, and that a Datex S/5 waits to be asked', async () => {
    const quiet = await openPtyPair(rig.dir, 'quiet');
    pairs.push(quiet);
    const r = await vitalwire(['gateway', 'probe', '--device', quiet.host, '--seconds', '0.5']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('No bytes at any setting: is the device on, its data output (serial export) enabled');
    expect(r.stdout).toContain(
      'A GE Datex-Ohmeda S/5 sends nothing until the host sends it a transmission request, which probe does not do',
    );
  }, 60_000);

  it('without metrics, `gateway status` reads the data directory; a stopped gateway says so', async () => {
    const cfg = gatewayConfig(
      rig.config(
        [{ id: 'mon1', protocol: 'hl7', transport: { kind: 'tcp', host: '127.0.0.1', port: await freePort() } }],
        { dataDir: join(rig.dir, 'gw-file') },
      ),
    );
    const gw = await startGateway({ config: cfg, logger: silentLogger() });
    try {
      await until(() => gw.uplink.isConnected(), 'uplink connected');
      let r: Run = { code: null, stdout: '', stderr: '' };
      for (let i = 0; i < 20; i++) {
        r = await vitalwire(['gateway', 'status', '--data-dir', cfg.dataDir]);
        if (r.stdout.includes('uplink: connected')) break;
        await new Promise((res) => setTimeout(res, 500));
      }
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(
        /^device mon1 \(simulated\): hl7 over tcp 127\.0\.0\.1:\d+: DOWN: cannot open the link \(.*ECONNREFUSED.*\): check the serial path or host and port/m,
      );
    } finally {
      await gw.close();
    }
    const after = await vitalwire(['gateway', 'status', '--data-dir', cfg.dataDir]);
    expect(after.code).toBe(1);
    expect(after.stdout).toMatch(/^STOPPED .*: what follows is the gateway's state when it stopped/);
  }, 60_000);
});
