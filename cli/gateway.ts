import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { VitalwireError } from '../lib/errors.js';
import { protocolIds } from '../decoders/registry.js';
import {
  gatewayConfig,
  gatewayConfigSchema,
  loadGatewayConfig,
  type GatewayConfig,
  type GatewayConfigInput,
} from '../gateway/config.js';
import {
  formatReport,
  readStatusFile,
  STATUS_FILE,
  STATUS_FILE_INTERVAL_MS,
  STATUS_STALE_INTERVALS,
  type GatewayReport,
} from '../gateway/diagnosis-status.js';
import { lineName } from '../gateway/diagnosis.js';
import { formatProbe, probe, PROBE_SETTINGS, type ProbeTarget } from '../gateway/probe.js';
import { silenceAfterMs } from '../gateway/silence.js';
import { startGateway } from '../gateway/gateway.js';
import { loadConfigFile } from '../lib/config.js';
import { createLogger } from '../lib/log.js';
import { isValidSegment } from '../lib/topics.js';
import { helpText, parse, untilSignal, type CommandSpec } from './args.js';

export const gatewayCommand: CommandSpec = {
  name: 'gateway',
  summary:
    'Run an edge gateway: read devices, decode to standard observations, store durably, publish over TLS MQTT (gateway init, status, probe: see their --help).',
  usage:
    'gateway --config FILE [--check-config] [--record DIR]\n       vitalwire gateway --broker URL --site SITE --gateway ID --ca FILE --cert FILE --key FILE --device SPEC [--device SPEC...]\n' +
    "       vitalwire gateway init --site SITE --gateway ID [--dir DIR]                     (this gateway's key and certificate request)\n" +
    '       vitalwire gateway status [--config FILE | --url URL | --data-dir DIR] [--json]   (see vitalwire gateway status --help)\n' +
    '       vitalwire gateway probe --device PATH|HOST:PORT [--seconds N] [--json]         (see vitalwire gateway probe --help)',
  options: {
    config: {
      type: 'string',
      arg: 'FILE',
      help: 'gateway configuration (YAML or JSON; see docs/gateway.md and deploy/gateway.example.yaml)',
    },
    'check-config': {
      type: 'boolean',
      help: 'validate the configuration, print every problem with its path, and exit',
    },
    record: {
      type: 'string',
      arg: 'DIR',
      help: 'record raw device bytes with receive times under DIR (for replay and fixtures)',
    },
    broker: { type: 'string', arg: 'URL', help: 'without --config: broker URL, e.g. mqtts://central.example:8883' },
    site: { type: 'string', arg: 'SITE', help: 'without --config: site id (must match the certificate)' },
    gateway: { type: 'string', arg: 'ID', help: 'without --config: gateway id (must match the certificate)' },
    ca: {
      type: 'string',
      arg: 'FILE',
      help: 'without --config: CA certificate (PEM) that signed the broker certificate',
    },
    cert: { type: 'string', arg: 'FILE', help: "without --config: this gateway's client certificate (PEM)" },
    key: { type: 'string', arg: 'FILE', help: "without --config: this gateway's private key (PEM)" },
    'data-dir': {
      type: 'string',
      arg: 'DIR',
      default: './.vitalwire/gateway',
      help: 'without --config: outbox and state directory',
    },
    device: {
      type: 'string',
      multiple: true,
      arg: 'SPEC',
      help: 'without --config: id=ID,protocol=hl7,serial=PATH[,baud=N][,bed=LABEL] or id=ID,protocol=hl7,tcp=HOST:PORT[,bed=LABEL]',
    },
  },
};

type DeviceInput = GatewayConfigInput['devices'][number];

export function parseDeviceSpec(spec: string): DeviceInput {
  const kv = new Map<string, string>();
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new VitalwireError('VW_ERR_USAGE', `--device ${spec}: expected key=value pairs`);
    kv.set(part.slice(0, eq), part.slice(eq + 1));
  }
  const id = kv.get('id') ?? '';
  if (!isValidSegment(id))
    throw new VitalwireError('VW_ERR_USAGE', `--device ${spec}: id must be 1-64 of A-Z a-z 0-9 . _ : -`);
  const protocol = kv.get('protocol') ?? 'hl7';
  if (!protocolIds().includes(protocol)) {
    throw new VitalwireError('VW_ERR_USAGE', `--device ${spec}: protocol must be one of ${protocolIds().join(', ')}`);
  }
  const bed = kv.get('bed');
  const serial = kv.get('serial');
  const tcp = kv.get('tcp');
  if (serial) {
    const baud = Number(kv.get('baud') ?? '9600');
    if (!Number.isInteger(baud) || baud <= 0) throw new VitalwireError('VW_ERR_USAGE', `--device ${spec}: bad baud`);
    return { id, protocol, ...(bed ? { bed } : {}), transport: { kind: 'serial', path: serial, baudRate: baud } };
  }
  if (tcp) {
    const m = /^(.+):(\d{1,5})$/.exec(tcp);
    if (!m) throw new VitalwireError('VW_ERR_USAGE', `--device ${spec}: tcp=HOST:PORT`);
    return {
      id,
      protocol,
      ...(bed ? { bed } : {}),
      transport: { kind: 'tcp', host: m[1] as string, port: Number(m[2]) },
    };
  }
  throw new VitalwireError('VW_ERR_USAGE', `--device ${spec}: needs serial=PATH or tcp=HOST:PORT`);
}

function configFromFlags(values: Record<string, unknown>): GatewayConfig {
  for (const k of ['broker', 'site', 'gateway', 'ca', 'cert', 'key'] as const) {
    if (typeof values[k] !== 'string')
      throw new VitalwireError('VW_ERR_USAGE', `--${k} is required (or give --config FILE)`);
  }
  const specs = (values['device'] as string[] | undefined) ?? [];
  if (specs.length === 0)
    throw new VitalwireError('VW_ERR_USAGE', 'at least one --device is required (or give --config FILE)');
  return gatewayConfig(
    {
      site: String(values['site']),
      gateway: String(values['gateway']),
      broker: { urls: [String(values['broker'])] },
      tls: { ca: String(values['ca']), cert: String(values['cert']), key: String(values['key']) },
      dataDir: String(values['data-dir']),
      devices: specs.map(parseDeviceSpec),
    },
    process.cwd(),
  );
}

function describe(c: GatewayConfig, file: string): string {
  const lines = [
    `${file}: valid`,
    `  site ${c.site}, gateway ${c.gateway}, broker ${c.broker.urls.join(', ')}`,
    `  data ${c.dataDir}, quota ${c.outbox.quotaBytes} bytes`,
  ];
  for (const d of c.devices) {
    const t = d.transport;
    const where =
      t.kind === 'tcp'
        ? `${t.host}:${t.port}`
        : t.kind === 'mllp-listener'
          ? `${t.host}:${t.port} from ${t.allowedPeers.join(' ')}`
          : t.path;
    const after = silenceAfterMs(d.protocol, d.silence);
    const silence = after === null ? 'silence not judged' : `silent after ${after / 1000} s without a frame`;
    lines.push(
      `  device ${d.id}: ${d.protocol} over ${t.kind} ${where}; ${silence}${d.simulated ? '; SIMULATED (FLAG_SIMULATED on all it produces)' : ''}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export async function runGateway(argv: string[]): Promise<number> {
  if (argv[0] === 'init') return (await import('./gateway-init.js')).runGatewayInit(argv.slice(1));
  if (argv[0] === 'status') return runGatewayStatus(argv.slice(1));
  if (argv[0] === 'probe') return runGatewayProbe(argv.slice(1));
  const { values } = parse(gatewayCommand, argv);
  if (values['help']) {
    process.stdout.write(helpText(gatewayCommand));
    return 0;
  }
  const file = typeof values['config'] === 'string' ? values['config'] : undefined;
  if (values['check-config'] && !file) throw new VitalwireError('VW_ERR_USAGE', '--check-config needs --config FILE');
  const config = file ? (await loadGatewayConfig(file)).config : configFromFlags(values);
  if (values['check-config']) {
    process.stdout.write(describe(config, resolve(file ?? '')));
    return 0;
  }
  const logger = createLogger('vitalwire-gateway', process.env['VW_LOG_LEVEL'] ?? config.log.level);
  const gw = await startGateway({
    config,
    logger,
    ...(typeof values['record'] === 'string' ? { recordDir: resolve(values['record']) } : {}),
  });
  const signal = await untilSignal();
  logger.info({ signal }, 'stopping: storing and flushing');
  await gw.close();
  return 0;
}

// ---- vitalwire gateway status ----------------------------------------------------------------------------------------

/** Where a packaged gateway's config lives (deploy/vitalwire-gateway.service). */
export const DEFAULT_CONFIG = '/etc/vitalwire/gateway.yaml';
const DEFAULT_STATUS_URL = 'http://127.0.0.1:9465/status';

export const gatewayStatusCommand: CommandSpec = {
  name: 'gateway status',
  summary:
    "A running gateway's devices (link state, diagnosis, last good frame) and uplink (connected, or why not), read on the gateway box.",
  usage: 'gateway status [--config FILE | --url URL | --data-dir DIR] [--json]',
  options: {
    config: {
      type: 'string',
      arg: 'FILE',
      help: `the gateway's config: its metrics port (GET /status) or, with metrics off, its data directory (status.json). Default ${DEFAULT_CONFIG} when it exists, else ${DEFAULT_STATUS_URL}`,
    },
    url: { type: 'string', arg: 'URL', help: `the gateway's status endpoint, e.g. ${DEFAULT_STATUS_URL}` },
    'data-dir': {
      type: 'string',
      arg: 'DIR',
      help: "the gateway's data directory, when its metrics are off (it writes status.json there)",
    },
    json: { type: 'boolean', help: 'print the report as JSON (for scripts)' },
  },
};

async function fetchReport(url: string): Promise<GatewayReport> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new VitalwireError(
      'VW_ERR_USAGE',
      `nothing answers at ${url} (${cause}): is the gateway running, with metrics on that port?`,
    );
  }
  if (!res.ok)
    throw new VitalwireError(
      'VW_ERR_USAGE',
      `${url} answered ${res.status}: is that a vitalwire gateway's metrics port?`,
    );
  return (await res.json()) as GatewayReport;
}

async function readReportFile(dir: string): Promise<{ report: GatewayReport; stale: boolean }> {
  let report: GatewayReport;
  try {
    report = await readStatusFile(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new VitalwireError(
      'VW_ERR_USAGE',
      `cannot read ${join(dir, STATUS_FILE)} (${code}): is this the gateway's data directory, and does it run with metrics off? (run as the gateway's user or root)`,
    );
  }
  return { report, stale: Date.now() - Date.parse(report.time) > STATUS_FILE_INTERVAL_MS * STATUS_STALE_INTERVALS };
}

export async function runGatewayStatus(
  argv: string[],
  stdout: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  const { values } = parse(gatewayStatusCommand, argv);
  if (values['help']) {
    stdout.write(helpText(gatewayStatusCommand));
    return 0;
  }
  let url = typeof values['url'] === 'string' ? values['url'] : undefined;
  let dir = typeof values['data-dir'] === 'string' ? resolve(values['data-dir']) : undefined;
  const file =
    typeof values['config'] === 'string'
      ? values['config']
      : !url && !dir && existsSync(DEFAULT_CONFIG)
        ? DEFAULT_CONFIG
        : undefined;
  if (file) {
    // Only the metrics and data directory are needed: the TLS files may be readable by the gateway's user alone.
    const abs = resolve(file);
    const { config } = await loadConfigFile(gatewayConfigSchema(dirname(abs), { checkFiles: false }), abs);
    if (config.metrics && config.metrics.port !== 0)
      url = `http://${config.metrics.host.includes(':') ? `[${config.metrics.host}]` : config.metrics.host}:${config.metrics.port}/status`;
    else dir = config.dataDir;
  }
  if (!url && !dir) url = DEFAULT_STATUS_URL;
  let report: GatewayReport;
  let stale = false;
  if (url) report = await fetchReport(url);
  else ({ report, stale } = await readReportFile(dir as string));
  // Exit 1 when the gateway is not running: a stopped gateway's last report, or one not rewritten for a while.
  const down = stale || report.stoppedAt !== undefined;
  if (values['json']) {
    stdout.write(`${JSON.stringify(stale ? { ...report, stale } : report, null, 2)}\n`);
    return down ? 1 : 0;
  }
  if (stale)
    stdout.write(
      `NOT RUNNING? this report is from ${report.time}: the gateway stopped (or hangs) since; what follows is its last state\n`,
    );
  stdout.write(formatReport(report));
  return down ? 1 : 0;
}

// ---- vitalwire gateway probe -----------------------------------------------------------------------------------------

export const gatewayProbeCommand: CommandSpec = {
  name: 'gateway probe',
  summary:
    'Listen to a serial port (every common baud rate, and 19200 8E1, in turn) or a TCP port, and say which protocol decodes: prints the config for the device.',
  usage: 'gateway probe --device PATH|HOST:PORT [--seconds N] [--json]',
  options: {
    device: {
      type: 'string',
      arg: 'PATH|HOST:PORT',
      help: 'a serial port (/dev/ttyUSB0) or a device / terminal server to dial (10.0.0.5:4001); stop a gateway that holds it first',
    },
    seconds: {
      type: 'string',
      arg: 'N',
      default: '4',
      help: 'how long to listen at each setting (a 1 Hz oximeter needs 3 or more)',
    },
    json: { type: 'boolean', help: 'print the result as JSON' },
  },
};

export function probeTarget(device: string): ProbeTarget {
  const m = /^([^/]+):(\d{1,5})$/.exec(device);
  if (m) return { kind: 'tcp', host: m[1] as string, port: Number(m[2]) };
  if (!device.includes('/'))
    throw new VitalwireError('VW_ERR_USAGE', `--device ${device}: a serial path (/dev/ttyUSB0) or HOST:PORT`);
  return { kind: 'serial', path: device };
}

export async function runGatewayProbe(
  argv: string[],
  stdout: NodeJS.WritableStream = process.stdout,
  stderr: NodeJS.WritableStream = process.stderr,
): Promise<number> {
  const { values } = parse(gatewayProbeCommand, argv);
  if (values['help']) {
    stdout.write(helpText(gatewayProbeCommand));
    return 0;
  }
  if (typeof values['device'] !== 'string')
    throw new VitalwireError('VW_ERR_USAGE', '--device PATH|HOST:PORT is required');
  const target = probeTarget(values['device']);
  const seconds = Number(values['seconds']);
  if (!(seconds >= 0.5 && seconds <= 600))
    throw new VitalwireError('VW_ERR_USAGE', `--seconds must be from 0.5 to 600, got ${String(values['seconds'])}`);
  const steps = target.kind === 'tcp' ? 1 : PROBE_SETTINGS.length;
  stderr.write(
    `vitalwire gateway probe: listening to ${values['device']} (${steps} setting${steps > 1 ? 's' : ''}, ${seconds} s each); nothing is sent to the device\n`,
  );
  const r = await probe(target, {
    dwellMs: seconds * 1000,
    onTrial: (t) =>
      stderr.write(
        `  ${t.setting ? lineName(t.setting) : 'tcp'}: ${t.bytes} bytes${t.decoded[0] ? `, ${t.decoded[0].protocol}` : ''}\n`,
      ),
  });
  stdout.write(values['json'] ? `${JSON.stringify(r, null, 2)}\n` : formatProbe(r));
  return r.verdict ? 0 : 1;
}
