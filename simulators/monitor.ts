// Runs a simulated PCD-01 monitor: one ORU^R01 a second (configurable) to a sink.
import { nowUs } from '../gateway/device-link.js';
import { buildPcd01Frame, type MonitorIdentity } from './hl7-monitor.js';
import { createPatient } from './physiology.js';
import type { Sink } from './sinks.js';
import type { Vitals } from './physiology.js';

export interface MonitorOptions {
  identity: MonitorIdentity;
  sink: Sink;
  seed: number;
  intervalMs?: number;
  demo?: boolean;
  utcOffsetMin?: number;
  /** Called after each frame is handed to the sink, with the values it carried. */
  onSend?: (v: Vitals, timeUs: number, controlId: string) => void;
}

export interface RunningMonitor {
  readonly sent: number;
  stop(): void;
}

export function simulatedEui64(bed: number): string {
  // First octet 0x02: a locally administered id, never a real vendor's.
  return `02565700000000${(bed & 0xff).toString(16).padStart(2, '0')}`.toUpperCase();
}

export function runMonitor(o: MonitorOptions): RunningMonitor {
  const patient = createPatient(o.seed);
  const interval = o.intervalMs ?? 1000;
  let sent = 0;
  const tick = () => {
    const v = patient.step(interval / 1000);
    const t = nowUs();
    const controlId = `${o.identity.eui64.slice(-4)}${String(sent + 1).padStart(8, '0')}`;
    o.sink.write(buildPcd01Frame(o.identity, v, { controlId, timeUs: t, utcOffsetMin: o.utcOffsetMin ?? 420, demo: o.demo ?? false }));
    sent++;
    o.onSend?.(v, t, controlId);
  };
  const timer = setInterval(tick, interval);
  setImmediate(tick);
  return {
    get sent() {
      return sent;
    },
    stop() {
      clearInterval(timer);
    },
  };
}
