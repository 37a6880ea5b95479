// The gateway's own account of itself for `vitalwire gateway status`: each device's link state and diagnosis with the
// time of its last good frame, the uplink (connected, or why not), the outbox depth. Served as JSON at GET /status on
// the loopback metrics port, and, when metrics are off, written to <dataDir>/status.json every few seconds: either
// way a district engineer reads it on the box itself, with no network setup. No patient data, no values.
import { randomBytes } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Suggestion, DiagnosisState } from './diagnosis.js';

/** <dataDir>/status.json, rewritten this often while metrics are off. */
export const STATUS_FILE = 'status.json';
export const STATUS_FILE_INTERVAL_MS = 5000;
/** A status file older than this many intervals is from a gateway that stopped (or hangs). */
export const STATUS_STALE_INTERVALS = 3;

export interface DeviceReport {
  id: string;
  protocol: string;
  /** "serial /dev/ttyUSB0 9600 8N1", "tcp 10.0.0.5:4001", "mllp-listener 0.0.0.0:2575". */
  transport: string;
  link: 'connecting' | 'connected' | 'disconnected';
  state: DiagnosisState;
  diagnosis: string;
  suggestion?: Suggestion;
  silent: boolean;
  /** ISO time of the last good frame; null: none since the gateway started. */
  lastFrame: string | null;
  framesOk: number;
  framesBad: number;
  bytes: number;
  reconnects: number;
  simulated: boolean;
}

export interface GatewayReport {
  site: string;
  gateway: string;
  pid: number;
  startedAt: string;
  /** When this report was made. */
  time: string;
  /** Set in the last report a gateway writes as it stops (status.json stays behind). */
  stoppedAt?: string;
  uplink: {
    connected: boolean;
    url: string;
    /** Since when `connected` and `reason` hold. */
    since: string;
    /** lib/connect-diagnosis.ts ConnectReason; null while connected (or before the first attempt ends). */
    reason: string | null;
    text: string | null;
    failures: number;
    lastConnected: string | null;
  };
  outbox: { depth: number; bytes: number; quotaBytes: number; oldestUnsent: string | null };
  devices: DeviceReport[];
}

export const isoUs = (us: number): string | null => (us > 0 ? new Date(Math.floor(us / 1000)).toISOString() : null);

/** Writes the report atomically (a reader never sees half a file). */
export async function writeStatusFile(dataDir: string, r: GatewayReport): Promise<void> {
  const path = join(dataDir, STATUS_FILE);
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, `${JSON.stringify(r, null, 1)}\n`, { mode: 0o644 });
  await rename(tmp, path);
}

export async function readStatusFile(dataDir: string): Promise<GatewayReport> {
  return JSON.parse(await readFile(join(dataDir, STATUS_FILE), 'utf8')) as GatewayReport;
}

const ago = (iso: string | null, nowMs: number): string => {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((nowMs - Date.parse(iso)) / 1000));
  const rel = s < 120 ? `${s} s ago` : s < 7200 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
  return `${iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z')} (${rel})`;
};

/** The report as a person reads it. */
export function formatReport(r: GatewayReport, nowMs = Date.now()): string {
  const lines = [
    `gateway ${r.site}/${r.gateway} (pid ${r.pid}, started ${ago(r.startedAt, nowMs)}), as of ${ago(r.time, nowMs)}`,
  ];
  if (r.stoppedAt)
    lines.unshift(`STOPPED ${ago(r.stoppedAt, nowMs)}: what follows is the gateway's state when it stopped`);
  const u = r.uplink;
  lines.push(
    u.connected
      ? `uplink: connected to ${u.url} since ${ago(u.since, nowMs)}`
      : `uplink: NOT CONNECTED to ${u.url}${u.reason ? ` [${u.reason}]: ${u.text ?? ''}` : ': connecting'}; since ${ago(u.since, nowMs)}, ${u.failures} failed attempts, last connected ${ago(u.lastConnected, nowMs)}`,
  );
  lines.push(
    `outbox: ${r.outbox.depth} batches waiting, ${r.outbox.bytes} of ${r.outbox.quotaBytes} bytes, oldest unsent ${ago(r.outbox.oldestUnsent, nowMs)}`,
  );
  for (const d of r.devices) {
    const sim = d.simulated ? ' (simulated)' : '';
    lines.push(`device ${d.id}${sim}: ${d.protocol} over ${d.transport}: ${d.state.toUpperCase()}: ${d.diagnosis}`);
    lines.push(
      `  last good frame ${ago(d.lastFrame, nowMs)}; ${d.framesOk} frames OK, ${d.framesBad} rejected, ${d.bytes} bytes, ${d.reconnects} reconnects`,
    );
    if (d.suggestion) {
      const s = [
        d.suggestion.protocol ? `protocol: ${d.suggestion.protocol}` : '',
        d.suggestion.baudRate ? `baudRate: ${d.suggestion.baudRate}` : '',
      ]
        .filter(Boolean)
        .join(', ');
      lines.push(`  try: ${s}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
