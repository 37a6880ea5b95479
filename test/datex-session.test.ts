// Issue 16: a real Datex-Ohmeda S/5 sends nothing until the host sends a transmission request, and the gateway's
// Datex link used to only listen, so an S/5 on a vitalwire gateway stayed silent. A simulated S/5 that behaves so sits
// on a real pty (socat); the gateway opens the other end with serialport, its session requests the records, and they
// reach the broker; the link's status says where the session is (DeviceStatus.session). When the monitor is power
// cycled it forgets the request and falls silent; the session notices and requests again.
import type { AedesPublishPacket } from 'aedes';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gatewayConfig } from '../gateway/config.js';
import { startGateway, type Gateway } from '../gateway/gateway.js';
import { silentLogger } from '../lib/log.js';
import { parseStreamTopic } from '../lib/topics.js';
import { Batch, Kind } from '../proto/index.js';
import { memoryTruth } from '../simulators/ground-truth.js';
import { socatAvailable } from '../simulators/pty.js';
import { prepareRunner, type Runner } from '../simulators/runner.js';
import { scenario } from '../simulators/scenario.js';
import { Rig, until } from './chaos/harness.js';

describe.skipIf(!socatAvailable())('Datex S/5 session through a real pty', () => {
  let rig: Rig | null = null;
  let gw: Gateway | null = null;
  let runner: Runner | null = null;
  let dir = '';
  afterEach(async () => {
    await runner?.stop();
    await gw?.close();
    await rig?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is silent until the gateway requests, streams after, and is requested again after a power cycle', async () => {
    rig = new Rig('datex-session');
    await rig.startBroker();
    const sessions: string[] = [];
    let obs = 0;
    await new Promise<void>((resolve) =>
      rig!.central?.broker.aedes.subscribe(
        'vw/v1/+/+/+/+',
        (packet: AedesPublishPacket, cb: () => void) => {
          const t = parseStreamTopic(packet.topic);
          if (t?.device === 's5') {
            const b = Batch.decode(packet.payload as Buffer);
            if (b.kind === Kind.KIND_OBS) obs += b.observations.length;
            for (const s of b.statuses) if (s.session && sessions.at(-1) !== s.session) sessions.push(s.session);
          }
          cb();
        },
        resolve,
      ),
    );
    dir = mkdtempSync(join(tmpdir(), 'vw-datex-'));
    const truth = memoryTruth();
    runner = await prepareRunner({
      scenario: scenario({
        version: 1,
        seed: 3,
        beds: [
          {
            bed: 1,
            devices: [{ id: 's5', protocol: 'datex', transport: 'serial', faults: [{ at: 14, kind: 'power-cycle' }] }],
          },
        ],
      }),
      truth,
      logger: silentLogger(),
      ptyDir: dir,
    });
    runner.start();
    const s5 = runner.devices[0]!.device;
    // Without a host the monitor sends nothing.
    await new Promise((r) => setTimeout(r, 1500));
    expect(s5.frames).toBe(0);
    expect(s5.requested).toBe(false);

    const devices = runner.gatewayDevices.map((d) => ({ ...d, session: { intervalS: 5, renewAfterMs: 8000 } }));
    expect(devices[0]?.transport).toMatchObject({ kind: 'serial', baudRate: 19200, parity: 'even' });
    gw = await startGateway({
      config: gatewayConfig(rig.config(devices, { batching: { obsMs: 0 } })),
      logger: silentLogger(),
    });
    const g = gw;
    await until(() => s5.requested === true, 'the S/5 requested', 10_000);
    await until(() => (g.devices[0]?.counters.frames ?? 0) >= 2, 'two records at the gateway', 15_000);
    expect(g.devices[0]?.counters.session).toBe('streaming');
    await until(
      () => obs > 0 && sessions.includes('streaming'),
      'records and a streaming status at the broker',
      10_000,
    );

    // The power cycle at 14 s: the monitor forgets the request; the session renews it; records resume.
    await until(() => !s5.requested, 'the S/5 power-cycled', 20_000);
    const before = g.devices[0]?.counters.frames ?? 0;
    await until(() => s5.requested === true, 'the request renewed', 15_000);
    await until(() => (g.devices[0]?.counters.frames ?? 0) > before, 'records again', 10_000);
    await until(
      () => sessions.slice(sessions.indexOf('streaming')).includes('renewing') && sessions.at(-1) === 'streaming',
      'renewing then streaming at the broker',
      10_000,
    );
    // closed (link down) -> requested at the link's start -> streaming -> renewing -> streaming.
    expect(sessions.slice(0, 3)).toEqual(['closed', 'requested', 'streaming']);
    // Everything the S/5 sent was decoded: no rejected frames.
    expect(g.devices[0]?.counters.badFrames).toBe(0);
    expect(truth.records.filter((t) => t.t === 'obs').length).toBeGreaterThan(10);
  }, 90_000);
});
