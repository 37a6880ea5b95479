// Issue 13: a device whose link stays open but which stops sending produced no status and no Gap; the specialist saw
// the last values as if they were current. On real parts: a monitor on a TCP link that goes quiet (the connection
// stays up), a real gateway, a TLS Aedes broker; short configured thresholds instead of the protocol defaults.
import type { AedesPublishPacket } from 'aedes';
import { afterAll, describe, expect, it } from 'vitest';
import { gatewayConfig } from '../gateway/config.js';
import { startGateway, type Gateway } from '../gateway/gateway.js';
import { silentLogger } from '../lib/log.js';
import { parseStreamTopic } from '../lib/topics.js';
import { Batch, GapReason, LinkState } from '../proto/index.js';
import type { vitalwire } from '../proto/gen/vitals.js';
import { openTcpSink, type Sink } from '../simulators/sinks.js';
import { Rig, streamCounter, until } from './chaos/harness.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('gateway: a device that falls silent with its link up', () => {
  const rig = new Rig('silence');
  const sinks: Sink[] = [];
  let gw: Gateway | null = null;
  afterAll(async () => {
    await gw?.close();
    for (const s of sinks) await s.close();
    await rig.close();
  });

  it('publishes SILENT with a diagnosis, then CONNECTED and a DEVICE_SILENT Gap from its last frame to its return', async () => {
    await rig.startBroker();
    const status: { device: string; batch: vitalwire.v1.Batch }[] = [];
    await new Promise<void>((resolve) =>
      rig.central?.broker.aedes.subscribe(
        'vw/v1/+/+/+/status',
        (packet: AedesPublishPacket, cb: () => void) => {
          const t = parseStreamTopic(packet.topic);
          if (t) status.push({ device: t.device, batch: Batch.decode(packet.payload as Buffer) });
          cb();
        },
        resolve,
      ),
    );
    for (let i = 0; i < 2; i++) sinks.push(await openTcpSink('127.0.0.1', 0));
    const [quiet, garbled] = sinks as [Sink, Sink];
    // mon2 sends bytes that never make an HL7 frame (a wrong line setting looks like this), from its first connection.
    const noise = setInterval(
      () => garbled.write(Buffer.from('\x00\x13\x7f line noise at the wrong speed \xfe\xff')),
      50,
    );
    gw = await startGateway({
      config: gatewayConfig(
        rig.config(
          [
            {
              id: 'mon1',
              protocol: 'hl7',
              transport: { kind: 'tcp', host: '127.0.0.1', port: quiet.port ?? 0 },
              silence: { periodMs: 50, afterMs: 400 },
            },
            {
              id: 'mon2',
              protocol: 'hl7',
              transport: { kind: 'tcp', host: '127.0.0.1', port: garbled.port ?? 0 },
              silence: { afterMs: 400 },
            },
          ],
          { batching: { obsMs: 0 } },
        ),
      ),
      logger: silentLogger(),
    });
    const g = gw;
    await until(() => g.devices.every((d) => d.state === 'connected') && g.uplink.isConnected(), 'gateway connected');
    const states = (device: string) =>
      status
        .filter((s) => s.device === device)
        .flatMap((s) => s.batch.statuses.map((x: vitalwire.v1.IDeviceStatus) => ({ x, seq: Number(s.batch.seq) })));

    // mon1 streams, then stops: its TCP connection stays open.
    const mon = streamCounter(() => quiet, 20);
    await until(() => (g.devices[0]?.counters.frames ?? 0) >= 10, 'mon1 streaming');
    mon.stop();
    // Date.now() counts whole milliseconds, the gateway's clock microseconds: the stop is before the next whole ms.
    const stoppedAt = (Date.now() + 1) * 1000;
    try {
      await until(() => states('mon1').some((s) => s.x.state === LinkState.LINK_STATE_SILENT), 'mon1 SILENT', 5000);
      await until(() => states('mon2').some((s) => s.x.state === LinkState.LINK_STATE_SILENT), 'mon2 SILENT', 5000);
    } finally {
      clearInterval(noise);
    }
    const silent = states('mon1').find((s) => s.x.state === LinkState.LINK_STATE_SILENT)?.x;
    const lastFrame = Number(silent?.lastFrameTimeUs);
    expect(lastFrame).toBeGreaterThan(0);
    expect(lastFrame).toBeLessThanOrEqual(stoppedAt);
    // Declared at the configured threshold after the last frame (not before), by the gateway's clock.
    expect(Number(silent?.time?.gatewayTimeUs) - lastFrame).toBeGreaterThanOrEqual(400_000);
    expect(silent?.reason).toBe('VW_ERR_DEVICE_SILENT');
    expect(silent?.diagnosis).toMatch(/^no bytes from the device for \d+ s/);
    const noisy = states('mon2').find((s) => s.x.state === LinkState.LINK_STATE_SILENT)?.x;
    expect(noisy?.diagnosis).toMatch(/^\d+ bytes but no valid hl7 frame since the link opened/);
    expect(noisy?.lastFrameTimeUs ?? 0).toBe(0);
    expect(g.devices[0]?.state).toBe('connected'); // the link never went down

    // mon1 sends again.
    await sleep(200);
    const again = streamCounter(() => quiet, 20);
    try {
      await until(
        () =>
          states('mon1').some(
            (s, i, all) =>
              s.x.state === LinkState.LINK_STATE_CONNECTED &&
              all.slice(0, i).some((p) => p.x.state === LinkState.LINK_STATE_SILENT),
          ),
        'mon1 CONNECTED again',
        5000,
      );
      await until(() => status.some((s) => s.device === 'mon1' && s.batch.gaps.length > 0), 'the silence Gap', 5000);
    } finally {
      again.stop();
    }
    const gap = status.find((s) => s.device === 'mon1' && s.batch.gaps.length > 0)?.batch.gaps[0];
    expect(gap?.reason).toBe(GapReason.GAP_REASON_DEVICE_SILENT);
    expect(Number(gap?.fromTimeUs)).toBe(lastFrame);
    const back = states('mon1').find(
      (s, i, all) =>
        s.x.state === LinkState.LINK_STATE_CONNECTED &&
        all.slice(0, i).some((p) => p.x.state === LinkState.LINK_STATE_SILENT),
    )?.x;
    expect(Number(gap?.toTimeUs)).toBe(Number(back?.lastFrameTimeUs)); // to the frame it resumed with
    expect(Number(gap?.toTimeUs) - Number(gap?.fromTimeUs)).toBeGreaterThanOrEqual(600_000); // 400 ms to SILENT + 200 ms
    expect(back?.diagnosis ?? '').toBe('');
    // Every status carries the last frame time: 0 until the first frame, then that frame's time or a later one's.
    const mon1 = states('mon1').map((s) => Number(s.x.lastFrameTimeUs));
    const firstSet = mon1.findIndex((v) => v > 0);
    expect(firstSet).toBeGreaterThanOrEqual(0);
    expect(mon1.slice(0, firstSet).every((v) => v === 0)).toBe(true);
    expect(mon1.slice(firstSet).every((v, i, a) => v > 0 && (i === 0 || v >= (a[i - 1] ?? 0)))).toBe(true);
    expect(g.metrics.registry.getSingleMetric('vitalwire_gateway_device_silent')).toBeDefined();
    expect(g.runtimes.get('mon2')?.isSilent()).toBe(true);
  }, 60_000);
});
