// `vitalwire gateway probe`: listens to a serial port at every common line setting in turn (or to a TCP port) and
// tries every decoder of the registry on what arrives, so a device's config can be written from what decodes. A
// listener only: it sends nothing (a Datex S/5, silent until asked, stays silent here; a pty or a USB device with a
// virtual serial port ignores the rate, and every rate then decodes alike: probe says so rather than pick one).
import {
  ByteRing,
  COMMON_BAUD_RATES,
  decodes,
  scoreProtocols,
  slowSender,
  type ProtocolScore,
  type SlowSender,
} from './diagnosis-bytes.js';
import { lineName, type LineSettings } from './diagnosis.js';
import type { Link } from './transports/link.js';
import { openSerialLink } from './transports/serial.js';
import { openTcpLink } from './transports/tcp.js';

const N81 = (baudRate: number): LineSettings => ({ baudRate, dataBits: 8, parity: 'none', stopBits: 1 });

/** Every common rate at 8N1, then the Datex S/5 computer interface's 19200 8E1. */
export const PROBE_SETTINGS: readonly LineSettings[] = [
  ...COMMON_BAUD_RATES.map(N81),
  { baudRate: 19200, dataBits: 8, parity: 'even', stopBits: 1 },
];
/** Bytes kept per setting: enough for every decoder to find several frames. */
export const PROBE_MAX_BYTES = 64 * 1024;
/** Bytes in the first moments after a (re)open are dropped: a character cut by the switch, what was buffered before. */
export const PROBE_SETTLE_MS = 300;

/** The line settings each protocol's devices use (README, ../shared/protocols.md), for the config a probe prints. */
const DOCUMENTED: Readonly<Record<string, { line: LineSettings; flowControl?: 'rtscts' }>> = {
  nonin7: { line: N81(9600) },
  nonin8: { line: N81(9600) },
  masimo: { line: N81(9600) },
  datex: { line: { baudRate: 19200, dataBits: 8, parity: 'even', stopBits: 1 }, flowControl: 'rtscts' },
  'ble-bridge': { line: N81(115200) },
};

export type ProbeTarget = { kind: 'serial'; path: string } | { kind: 'tcp'; host: string; port: number };

export interface ProbeTrial {
  /** Serial: the setting tried; TCP: null. */
  setting: LineSettings | null;
  bytes: number;
  /** Protocols that decoded, best first. */
  decoded: ProtocolScore[];
  /** Serial: a slower sender's pattern in the bytes (gateway/diagnosis-uart.ts). */
  slow: SlowSender | null;
  /** The port could not be opened at this setting. */
  error?: string;
}

export interface ProbeVerdict {
  protocol: string;
  /** The settings it decoded at (serial). */
  settings: LineSettings[];
  /** It decoded at every rate tried: the port ignores the rate (a pty, a USB CDC device). */
  rateIgnored: boolean;
  /** The setting for the config: the one it decoded at, or the protocol's documented one when the rate is ignored. */
  line: LineSettings | null;
}

export interface ProbeResult {
  target: ProbeTarget;
  trials: ProbeTrial[];
  verdict: ProbeVerdict | null;
}

export interface ProbeOptions {
  /** How long to listen at each setting (after PROBE_SETTLE_MS). */
  dwellMs: number;
  settings?: readonly LineSettings[];
  /** Called after each setting, for progress. */
  onTrial?: (t: ProbeTrial) => void;
}

async function listen(
  open: (data: (b: Buffer) => void) => Promise<Link>,
  settleMs: number,
  dwellMs: number,
): Promise<{ bytes: Buffer; n: number }> {
  const ring = new ByteRing(PROBE_MAX_BYTES);
  let n = 0;
  const settleUntil = performance.now() + settleMs;
  const link = await open((b) => {
    if (performance.now() < settleUntil) return;
    n += b.length;
    ring.push(b);
  });
  try {
    await new Promise((r) => setTimeout(r, settleMs + dwellMs));
  } finally {
    await link.close();
  }
  return { bytes: ring.snapshot(), n };
}

function trialOf(setting: LineSettings | null, bytes: Buffer, n: number): ProbeTrial {
  return {
    setting,
    bytes: n,
    decoded: scoreProtocols(bytes).filter(decodes),
    slow: setting ? slowSender(bytes, setting.baudRate, setting.dataBits) : null,
  };
}

export async function probe(target: ProbeTarget, o: ProbeOptions): Promise<ProbeResult> {
  const trials: ProbeTrial[] = [];
  if (target.kind === 'tcp') {
    const { bytes, n } = await listen(
      (data) => openTcpLink({ host: target.host, port: target.port }, { data, close: () => undefined }),
      0,
      o.dwellMs,
    );
    const t = trialOf(null, bytes, n);
    trials.push(t);
    o.onTrial?.(t);
  } else {
    for (const s of o.settings ?? PROBE_SETTINGS) {
      let t: ProbeTrial;
      try {
        const { bytes, n } = await listen(
          (data) => openSerialLink({ path: target.path, ...s }, { data, close: () => undefined }),
          PROBE_SETTLE_MS,
          o.dwellMs,
        );
        t = trialOf(s, bytes, n);
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        // A port another program holds (a running gateway) or one that does not exist fails at every setting alike.
        if (trials.length === 0) {
          const why = /lock|busy|temporarily unavailable/i.test(msg)
            ? `${target.path} is in use (is the gateway running? stop it first)`
            : `cannot open ${target.path}`;
          throw new Error(`${why}: ${msg}`, { cause: err });
        }
        t = { setting: s, bytes: 0, decoded: [], slow: null, error: msg };
      }
      trials.push(t);
      o.onTrial?.(t);
    }
  }
  return { target, trials, verdict: verdictOf(trials) };
}

/**
 * Which protocol decoded, and at which setting: the setting where its frames cover most of the bytes. A protocol
 * without a checksum can also decode, in part, from bytes read at a wrong rate (Nonin 8 read at twice its rate does):
 * those settings are listed too, and the bytes there usually show a slower sender's pattern (formatProbe says so).
 */
export function verdictOf(trials: readonly ProbeTrial[]): ProbeVerdict | null {
  const by = new Map<string, { settings: LineSettings[]; best: LineSettings | null; bestCoverage: number }>();
  for (const t of trials) {
    for (const d of t.decoded) {
      const e = by.get(d.protocol) ?? { settings: [], best: null, bestCoverage: -1 };
      if (t.setting) e.settings.push(t.setting);
      if (d.coverage > e.bestCoverage) Object.assign(e, { best: t.setting, bestCoverage: d.coverage });
      by.set(d.protocol, e);
    }
  }
  const top = [...by.entries()].sort(
    (a, b) => b[1].bestCoverage - a[1].bestCoverage || b[1].settings.length - a[1].settings.length,
  )[0];
  if (!top) return null;
  const [protocol, e] = top;
  const tried = trials.filter((t) => t.setting && !t.error).map((t) => t.setting as LineSettings);
  const rates = new Set(tried.map((s) => s.baudRate));
  const rateIgnored = rates.size > 1 && new Set(e.settings.map((s) => s.baudRate)).size === rates.size;
  let line = e.best;
  if (rateIgnored) line = DOCUMENTED[protocol]?.line ?? line;
  else if (line) {
    // At the right rate, an 8N1 receiver reads 8E1 data intact (diagnosis-uart.ts): prefer the protocol's own framing.
    const doc = DOCUMENTED[protocol]?.line;
    if (doc && doc.baudRate === line.baudRate && e.settings.some((s) => lineName(s) === lineName(doc))) line = doc;
  }
  return { protocol, settings: e.settings, rateIgnored, line };
}

/** The device entry to paste into the gateway config. */
export function configSnippet(target: ProbeTarget, v: ProbeVerdict): string {
  let transport: string;
  if (target.kind === 'tcp') transport = `{ kind: tcp, host: ${target.host}, port: ${target.port} }`;
  else {
    const l = v.line ?? N81(9600);
    const extra = [
      l.dataBits !== 8 ? `dataBits: ${l.dataBits}` : '',
      l.parity !== 'none' ? `parity: ${l.parity}` : '',
      l.stopBits !== 1 ? `stopBits: ${l.stopBits}` : '',
      DOCUMENTED[v.protocol]?.flowControl ? `flowControl: ${DOCUMENTED[v.protocol]?.flowControl}` : '',
    ]
      .filter(Boolean)
      .map((x) => `, ${x}`)
      .join('');
    transport =
      v.protocol === 'ble-bridge'
        ? `{ kind: ble-bridge, path: ${target.path}, baudRate: ${l.baudRate} }`
        : `{ kind: serial, path: ${target.path}, baudRate: ${l.baudRate}${extra} }`;
  }
  return [
    'devices:',
    '  - id: CHANGE-ME            # unique on this gateway, e.g. the bed',
    `    protocol: ${v.protocol}`,
    `    transport: ${transport}`,
    '',
  ].join('\n');
}

const DATEX_NOTE =
  'A GE Datex-Ohmeda S/5 sends nothing until the host sends it a transmission request, which probe does not do: ' +
  'if this is an S/5, configure it as datex at 19200 8E1 with flowControl rtscts.';

/** The result as a person reads it, with a config snippet when something decoded. */
export function formatProbe(r: ProbeResult): string {
  const where = r.target.kind === 'tcp' ? `${r.target.host}:${r.target.port}` : r.target.path;
  const lines: string[] = [`probe of ${where}:`];
  for (const t of r.trials) {
    const label = t.setting ? lineName(t.setting).padEnd(12) : 'tcp'.padEnd(12);
    let what: string;
    const slow = t.slow ? `; the bytes show the pattern of a sender at ${t.slow.baudRate} baud` : '';
    if (t.error) what = `not opened: ${t.error}`;
    else if (t.decoded.length > 0)
      what = `${t.decoded.map((d) => `${d.protocol}: ${d.frames} frames (${Math.round(d.coverage * 100)} % of the bytes)`).join('; ')}${slow}`;
    else if (t.bytes === 0) what = 'no bytes';
    else what = `nothing decodes${slow}`;
    lines.push(`  ${label} ${String(t.bytes).padStart(7)} bytes  ${what}`);
  }
  const v = r.verdict;
  if (v) {
    if (r.target.kind === 'tcp') lines.push(`${v.protocol} decodes.`);
    else if (v.rateIgnored) {
      lines.push(
        `${v.protocol} decodes at every rate tried: this port ignores the baud rate (a pty, or a USB device with a virtual serial port), so the rate cannot be told from the bytes; any works, and the config below uses the protocol's usual ${v.line ? lineName(v.line) : 'rate'}.`,
      );
    } else {
      const others = v.settings.filter((x) => v.line && x.baudRate !== v.line.baudRate);
      const chance =
        others.length > 0
          ? ` (in part also at ${others.map(lineName).join(', ')}: frames that fit by chance in bytes read at a wrong rate)`
          : '';
      lines.push(
        `${v.protocol} decodes at ${v.line ? `${lineName(v.line)}: use it` : v.settings.map(lineName).join(', ')}${chance}.`,
      );
    }
    lines.push('', 'Config for this device (gateway.yaml, docs/gateway.md):', configSnippet(r.target, v));
    return `${lines.join('\n')}\n`;
  }
  const total = r.trials.reduce((n, t) => n + t.bytes, 0);
  if (total === 0)
    lines.push(
      'No bytes at any setting: is the device on, its data output (serial export) enabled, and the cable right (null-modem or straight, as the device needs)?',
    );
  else {
    const slow = r.trials.find((t) => t.slow)?.slow;
    lines.push(
      `Bytes arrive but no known protocol decodes them${slow ? ` (their pattern suggests a sender at ${slow.baudRate} baud)` : ''}: check the device's output format and data bits, and that its protocol is one vitalwire reads (vitalwire decode --help lists them).`,
    );
  }
  lines.push(DATEX_NOTE);
  return `${lines.join('\n')}\n`;
}
