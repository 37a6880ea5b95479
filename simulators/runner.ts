// Runs a scenario in real time: one bed per patient, its devices on their transports (socat ptys, TCP ports the
// gateway dials, MLLP clients that dial the gateway and wait for ACKs), the patients' events and the devices' faults
// at their times, ground truth for everything that left intact, and counters for a progress line. `prepare` opens
// the transports and returns the gateway's device config; `start` starts the clock (call it once the gateway runs,
// or a TCP device's first frames find nobody to send to and are, truthfully, not sent).
import type { GatewayConfigInput } from '../gateway/config.js';
import type { Logger } from '../lib/log.js';
import { createBed, type Bed } from './bed.js';
import { createSimDevice, type Emission, type SimDevice } from './devices/index.js';
import type { TruthSink } from './ground-truth.js';
import { createMllpClient, type MllpClient } from './mllp-client.js';
import { createRng, type Rng } from './prng.js';
import { socatAvailable } from './pty.js';
import type { Scenario, ScenarioDevice } from './scenario.js';
import { openPtyPort, openTcpPort, type DevicePort } from './transports.js';
import { freePort } from '../lib/listen.js';

type GatewayDevice = GatewayConfigInput['devices'][number];

/** The simulated devices' local clock: Vietnam, UTC+7 (devices that send local time use it). */
export const SIM_UTC_OFFSET_MIN = 420;

/** Serial line settings of each protocol's real device (docs/serial-oximeters.md, docs/datex.md, docs/ble-bridge.md). */
const SERIAL: Record<string, { baudRate: number; parity?: 'even' }> = {
  nonin7: { baudRate: 9600 },
  nonin8: { baudRate: 9600 },
  masimo: { baudRate: 9600 },
  datex: { baudRate: 19200, parity: 'even' },
  'ble-bridge': { baudRate: 115200 },
  hl7: { baudRate: 115200 },
};

export interface RunnerOptions {
  scenario: Scenario;
  truth: TruthSink;
  logger: Logger;
  /** Where the pty links live. */
  ptyDir: string;
  host?: string;
  /** Use TCP ports instead of ptys for serial devices (also when socat is missing). */
  noSocat?: boolean;
  /** Scheduler tick (default 20 ms). */
  tickMs?: number;
  /** Uplink outages of the scenario: the caller cuts and restores the gateway's uplink. */
  onUplink?: (down: boolean) => void;
  /** Silence threshold written into the gateway config for each device (tests use short ones). */
  silence?: GatewayDevice['silence'];
}

export interface RunnerCounters {
  frames: number;
  bytes: number;
  acks: number;
  naks: number;
  resends: number;
  faults: number;
  /** Frames due while nobody received them (a TCP port before the gateway dialled, a pulled cable). */
  unsent: number;
  /** Waveform samples in the frames emitted. */
  samples: number;
}

export interface RunningDevice {
  spec: ScenarioDevice;
  bedNo: number;
  device: SimDevice;
  port: DevicePort | null;
  mllp: MllpClient<Emission> | null;
  /** Device up: TCP dialled in, MLLP connected, pty open. */
  readonly up: boolean;
}

export interface Runner {
  readonly devices: readonly RunningDevice[];
  readonly gatewayDevices: GatewayDevice[];
  readonly counters: RunnerCounters;
  start(): void;
  /** One line: devices up, frames sent, ACKs, faults. */
  progress(): string;
  /** Stops the clock; MLLP clients get `drainMs` to deliver what is queued; then transports close. */
  stop(drainMs?: number): Promise<void>;
}

export async function prepareRunner(o: RunnerOptions): Promise<Runner> {
  const sc = o.scenario;
  const host = o.host ?? '127.0.0.1';
  const usePty = !o.noSocat && socatAvailable();
  const counters: RunnerCounters = {
    frames: 0,
    bytes: 0,
    acks: 0,
    naks: 0,
    resends: 0,
    faults: 0,
    unsent: 0,
    samples: 0,
  };
  const devices: RunningDevice[] = [];
  const gatewayDevices: GatewayDevice[] = [];
  const beds = new Map<number, Bed>();
  const startRef = { us: 0 };
  // Beds are created at start (their clock starts then); devices hold a lazy reference through this proxy.
  const bedOf = (no: number): Bed => beds.get(no)!;
  const pending: {
    spec: ScenarioDevice;
    bedNo: number;
    seed: number;
    port: DevicePort | null;
    mllpPort: number;
    early: Buffer[];
  }[] = [];
  try {
    for (const b of sc.beds) {
      for (const d of b.devices) {
        let port: DevicePort | null = null;
        let mllpPort = 0;
        // Masimo sends local time without an offset (docs/serial-oximeters.md): the gateway is told the device's offset.
        const extra = {
          simulated: true,
          bed: `Bed ${b.bed}`,
          ...(d.protocol === 'masimo' ? { utcOffsetMin: SIM_UTC_OFFSET_MIN } : {}),
          ...(o.silence !== undefined ? { silence: o.silence } : {}),
        } as const;
        if (d.transport === 'mllp') {
          mllpPort = await freePort();
          gatewayDevices.push({
            id: d.id,
            protocol: 'hl7',
            ...extra,
            transport: { kind: 'mllp-listener', host, port: mllpPort, allowedPeers: ['127.0.0.1', '::1'] },
          });
        } else if (d.transport === 'serial' && usePty) {
          port = await openPtyPort(o.ptyDir, d.id);
          const line = SERIAL[d.protocol] ?? { baudRate: 9600 };
          gatewayDevices.push({
            id: d.id,
            protocol: d.protocol,
            ...extra,
            transport:
              d.protocol === 'ble-bridge'
                ? { kind: 'ble-bridge', path: port.hostPath ?? '', baudRate: line.baudRate }
                : {
                    kind: 'serial',
                    path: port.hostPath ?? '',
                    baudRate: line.baudRate,
                    ...(line.parity ? { parity: line.parity } : {}),
                  },
          });
        } else {
          port = await openTcpPort(host, 0);
          gatewayDevices.push({
            id: d.id,
            protocol: d.protocol,
            ...extra,
            transport: { kind: 'tcp', host, port: port.port ?? 0 },
          });
        }
        const early: Buffer[] = [];
        // Host bytes before start (a Datex request sent as soon as the gateway opened the port) reach the device then,
        // as they would reach a monitor that was already on.
        port?.onData((b) => early.push(Buffer.from(b)));
        pending.push({ spec: d, bedNo: b.bed, seed: b.seed ?? sc.seed * 1000 + b.bed, port, mllpPort, early });
      }
    }
  } catch (err) {
    await Promise.all(pending.map((p) => p.port?.close()));
    throw err;
  }

  const timers: NodeJS.Timeout[] = [];
  let ticker: NodeJS.Timeout | null = null;
  let running = false;
  const rngs = new Map<string, Rng>();

  const writeTruth = (e: Emission) => {
    for (const t of e.truth) o.truth.write(t);
  };

  // Per device: how the next emissions are written (faults change it for a while).
  interface WriteMode {
    truncate: number;
    checksum: number;
    oversize: number;
    duplicate: number;
    burstUntil: number;
    dripUntil: number;
    held: Buffer[];
    chain: Promise<void>;
  }
  const modes = new Map<string, WriteMode>();

  const lost = (rd: RunningDevice, e: Emission, kind: 'truncate' | 'checksum' | 'oversize', nowUs: number) => {
    o.truth.write({ t: 'fault', dev: rd.spec.id, timeUs: nowUs, kind, frames: [e.frame] });
  };

  function corrupt(protocol: string, b: Buffer, rng: Rng): Buffer {
    const c = Buffer.from(b);
    // A byte inside the frame that is not a flag or escape (Datex) and not a framing byte: its checksum now fails.
    for (let tries = 0; tries < 50; tries++) {
      const i = 1 + Math.floor(rng() * (c.length - 3));
      const v = c[i]!;
      if (protocol === 'datex' && (v === 0x7e || v === 0x7d)) continue;
      const nv = protocol === 'datex' ? v ^ 0x01 : v ^ 0x02;
      if (protocol === 'datex' && (nv === 0x7e || nv === 0x7d)) continue;
      c[i] = nv;
      return c;
    }
    return c;
  }

  function oversized(protocol: string, rng: Rng): Buffer {
    const junk = (n: number, lo = 0x41, span = 26) =>
      Buffer.from(Array.from({ length: n }, () => lo + Math.floor(rng() * span)));
    switch (protocol) {
      case 'datex':
        return Buffer.concat([Buffer.from([0x7e]), junk(3000), Buffer.from([0x7e])]);
      case 'masimo':
      case 'ble-bridge':
        return Buffer.concat([junk(2000), Buffer.from('\n')]);
      case 'hl7':
        return Buffer.concat([
          Buffer.from([0x0b]),
          Buffer.from('MSH|^~\\&|X|Y|||20260101||ORU^R01|OVERSIZE|T|2.6\r'),
          junk(1_100_000),
          Buffer.from([0x1c, 0x0d]),
        ]);
      default:
        return junk(600, 0x80, 0x7f);
    }
  }

  const sendStream = (rd: RunningDevice, e: Emission, nowUs: number) => {
    const port = rd.port;
    if (!port) return;
    const m = modes.get(rd.spec.id)!;
    const rng = rngs.get(rd.spec.id)!;
    let bytes = e.bytes;
    let intact = true;
    if (m.truncate > 0 && e.truth.length > 0) {
      m.truncate--;
      bytes = bytes.subarray(0, Math.max(1, Math.floor(bytes.length / 2)));
      intact = false;
      lost(rd, e, 'truncate', nowUs);
    } else if (
      m.checksum > 0 &&
      e.truth.length > 0 &&
      (rd.spec.protocol === 'datex' || rd.spec.protocol === 'nonin7')
    ) {
      m.checksum--;
      bytes = corrupt(rd.spec.protocol, bytes, rng);
      intact = false;
      lost(rd, e, 'checksum', nowUs);
    }
    if (m.oversize > 0) {
      m.oversize--;
      bytes = Buffer.concat([oversized(rd.spec.protocol, rng), bytes]);
    }
    if (m.duplicate > 0 && rd.spec.protocol === 'hl7' && e.truth.length > 0) {
      // An HL7 sender's resend: the same message again (the gateway answers it from the first copy).
      m.duplicate--;
      bytes = Buffer.concat([bytes, bytes]);
    }
    const now = Date.now();
    if (now < m.burstUntil) {
      m.held.push(bytes);
      if (intact) writeTruth(e);
      counters.frames++;
      return;
    }
    if (m.held.length > 0) {
      port.write(Buffer.concat(m.held.splice(0)));
    }
    if (now < m.dripUntil) {
      // A slow drip: one byte every 2 ms, in order with what follows.
      const b = bytes;
      m.chain = m.chain.then(async () => {
        for (const x of b) {
          port.write(Buffer.from([x]));
          await new Promise((r) => setTimeout(r, 2));
        }
      });
      if (intact) writeTruth(e);
      counters.frames++;
      counters.bytes += b.length;
      return;
    }
    const go = () => port.write(bytes);
    const sent = m.chain === DONE ? go() : ((m.chain = m.chain.then(() => void go())), port.connected);
    if (!sent) {
      counters.unsent++;
      return;
    }
    counters.frames++;
    counters.bytes += bytes.length;
    if (intact) writeTruth(e);
  };
  const DONE = Promise.resolve();

  const inject = (rd: RunningDevice, f: ScenarioDevice['faults'][number], nowUs: number) => {
    counters.faults++;
    const m = modes.get(rd.spec.id)!;
    const rng = rngs.get(rd.spec.id)!;
    const ms = (f.for ?? 0) * 1000;
    o.truth.write({
      t: 'fault',
      dev: rd.spec.id,
      timeUs: nowUs,
      kind: f.kind,
      ...(f.offsetMs !== undefined ? { offsetMs: f.offsetMs } : {}),
      ...(ms ? { durationMs: ms } : {}),
    });
    o.logger.info({ device: rd.spec.id, fault: f.kind }, 'fault injected');
    switch (f.kind) {
      case 'garbage': {
        const g = Buffer.from(Array.from({ length: f.bytes ?? 64 }, () => Math.floor(rng() * 256)));
        if (rd.spec.protocol === 'datex')
          for (let i = 0; i < g.length; i++) if (g[i] === 0x7e || g[i] === 0x7d) g[i] = 0x20; // between frames, not a new one
        if (rd.port) rd.port.write(g);
        break;
      }
      case 'truncate':
        m.truncate++;
        break;
      case 'checksum':
        m.checksum++;
        break;
      case 'oversize':
        m.oversize++;
        break;
      case 'duplicate':
        m.duplicate++;
        break;
      case 'disconnect':
        if (rd.mllp) rd.mllp.drop();
        else void rd.port?.unplug(ms);
        break;
      case 'clock-skew':
      case 'clock-jump':
        rd.device.clockOffsetMs = f.offsetMs ?? 0;
        break;
      case 'burst':
        m.burstUntil = Date.now() + ms;
        break;
      case 'drip':
        m.dripUntil = Date.now() + ms;
        break;
      case 'no-ack-read':
        rd.mllp?.stopReading(ms);
        break;
      case 'power-cycle':
        rd.device.powerCycle?.();
        break;
    }
  };

  const runner: Runner = {
    devices,
    gatewayDevices,
    counters,
    start() {
      if (running) return;
      running = true;
      startRef.us = Date.now() * 1000;
      for (const b of sc.beds) beds.set(b.bed, createBed(b.bed, b.seed ?? sc.seed * 1000 + b.bed, startRef.us));
      for (const p of pending) {
        const device = createSimDevice(p.spec.protocol, {
          id: p.spec.id,
          bed: bedOf(p.bedNo),
          bedNo: p.bedNo,
          seed: p.seed,
          utcOffsetMin: SIM_UTC_OFFSET_MIN,
          ...(p.spec.quirks ? { quirks: p.spec.quirks } : {}),
          ...(p.spec.ecgRateHz ? { ecgRateHz: p.spec.ecgRateHz } : {}),
        });
        rngs.set(p.spec.id, createRng(p.seed ^ 0xfa17));
        modes.set(p.spec.id, {
          truncate: 0,
          checksum: 0,
          oversize: 0,
          duplicate: 0,
          burstUntil: 0,
          dripUntil: 0,
          held: [],
          chain: DONE,
        });
        let mllp: MllpClient<Emission> | null = null;
        if (p.spec.transport === 'mllp') {
          mllp = createMllpClient<Emission>(
            { host, port: p.mllpPort, ackTimeoutMs: 5000 },
            {
              acked: (m) => {
                counters.acks++;
                writeTruth(m.meta);
              },
              rejected: (m) => {
                counters.naks++;
                o.truth.write({
                  t: 'fault',
                  dev: p.spec.id,
                  timeUs: Date.now() * 1000,
                  kind: 'nak',
                  frames: [m.meta.frame],
                });
              },
              dropped: (m) =>
                o.truth.write({
                  t: 'fault',
                  dev: p.spec.id,
                  timeUs: Date.now() * 1000,
                  kind: 'burst',
                  frames: [m.meta.frame],
                }),
            },
          );
        }
        if (p.port && device.receive) {
          const recv = device.receive.bind(device);
          for (const b of p.early.splice(0)) recv(b, startRef.us);
          p.port.onData((b) => recv(b, Date.now() * 1000));
        }
        const rd: RunningDevice = {
          spec: p.spec,
          bedNo: p.bedNo,
          device,
          port: p.port,
          mllp,
          get up() {
            return mllp ? mllp.connected : (p.port?.connected ?? false);
          },
        };
        devices.push(rd);
        for (const f of p.spec.faults) {
          timers.push(setTimeout(() => inject(rd, f, Date.now() * 1000), f.at * 1000));
        }
      }
      for (const b of sc.beds) {
        for (const ev of b.events) {
          timers.push(setTimeout(() => bedOf(b.bed).event(ev.kind, true, ev.rampS), ev.at * 1000));
          if (ev.for !== undefined)
            timers.push(setTimeout(() => bedOf(b.bed).event(ev.kind, false, ev.rampS), (ev.at + ev.for) * 1000));
        }
      }
      for (const u of sc.uplink) {
        timers.push(setTimeout(() => o.onUplink?.(true), u.at * 1000));
        timers.push(setTimeout(() => o.onUplink?.(false), (u.at + u.for) * 1000));
      }
      const tick = () => {
        const now = Date.now() * 1000;
        for (const b of beds.values()) b.advanceTo(now);
        for (const rd of devices) {
          for (const e of rd.device.emit(now)) {
            for (const t of e.truth) if (t.t === 'wave') counters.samples += t.samples.length;
            if (rd.mllp) {
              counters.frames++;
              counters.bytes += e.bytes.length;
              const dup = modes.get(rd.spec.id)!;
              rd.mllp.send({ bytes: e.bytes, controlId: e.controlId ?? '', meta: e });
              if (dup.duplicate > 0) {
                dup.duplicate--;
                rd.mllp.send({ bytes: e.bytes, controlId: e.controlId ?? '', meta: { ...e, truth: [] } });
              }
            } else sendStream(rd, e, now);
          }
        }
        counters.resends = devices.reduce((a, d) => a + (d.mllp?.counters.resent ?? 0), 0);
      };
      ticker = setInterval(tick, o.tickMs ?? 20);
    },
    progress() {
      const up = devices.filter((d) => d.up).length;
      return (
        `devices up ${up}/${pending.length}, frames sent ${counters.frames}, acks ${counters.acks}` +
        `${counters.naks ? `, naks ${counters.naks}` : ''}, resends ${counters.resends}, faults injected ${counters.faults}`
      );
    },
    async stop(drainMs = 0) {
      if (ticker) clearInterval(ticker);
      for (const t of timers) clearTimeout(t);
      running = false;
      await Promise.all(devices.map((d) => d.mllp?.drain(drainMs)));
      await Promise.all([...modes.values()].map((m) => m.chain));
      for (const d of devices) d.mllp?.close();
      await Promise.all(pending.map((p) => p.port?.close()));
    },
  };
  return runner;
}
