import { resolve } from 'node:path';
import { VitalwireError } from '../decoders/errors.js';
import { protocolIds } from '../decoders/registry.js';
import { gatewayConfig, loadGatewayConfig, type GatewayConfig, type GatewayConfigInput } from '../gateway/config.js';
import { silenceAfterMs } from '../gateway/silence.js';
import { startGateway } from '../gateway/gateway.js';
import { createLogger } from '../lib/log.js';
import { isValidSegment } from '../lib/topics.js';
import { helpText, parse, untilSignal, type CommandSpec } from './args.js';

export const gatewayCommand: CommandSpec = {
  name: 'gateway',
  summary: 'Run an edge gateway: read devices, decode to standard observations, store durably, publish over TLS MQTT.',
  usage: 'gateway --config FILE [--check-config] [--record DIR]\n       vitalwire gateway init --site SITE --gateway ID [--dir DIR] (this gateway\'s key and certificate request: gateway init --help)\n       vitalwire gateway --broker URL --site SITE --gateway ID --ca FILE --cert FILE --key FILE --device SPEC [--device SPEC...]',
  options: {
    config: { type: 'string', arg: 'FILE', help: 'gateway configuration (YAML or JSON; see docs/gateway.md and deploy/gateway.example.yaml)' },
    'check-config': { type: 'boolean', help: 'validate the configuration, print every problem with its path, and exit' },
    record: { type: 'string', arg: 'DIR', help: 'record raw device bytes with receive times under DIR (for replay and fixtures)' },
    broker: { type: 'string', arg: 'URL', help: 'without --config: broker URL, e.g. mqtts://central.example:8883' },
    site: { type: 'string', arg: 'SITE', help: 'without --config: site id (must match the certificate)' },
    gateway: { type: 'string', arg: 'ID', help: 'without --config: gateway id (must match the certificate)' },
    ca: { type: 'string', arg: 'FILE', help: 'without --config: CA certificate (PEM) that signed the broker certificate' },
    cert: { type: 'string', arg: 'FILE', help: 'without --config: this gateway\'s client certificate (PEM)' },
    key: { type: 'string', arg: 'FILE', help: 'without --config: this gateway\'s private key (PEM)' },
    'data-dir': { type: 'string', arg: 'DIR', default: './.vitalwire/gateway', help: 'without --config: outbox and state directory' },
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
  if (!isValidSegment(id)) throw new VitalwireError('VW_ERR_USAGE', `--device ${spec}: id must be 1-64 of A-Z a-z 0-9 . _ : -`);
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
    return { id, protocol, ...(bed ? { bed } : {}), transport: { kind: 'tcp', host: m[1] as string, port: Number(m[2]) } };
  }
  throw new VitalwireError('VW_ERR_USAGE', `--device ${spec}: needs serial=PATH or tcp=HOST:PORT`);
}

function configFromFlags(values: Record<string, unknown>): GatewayConfig {
  for (const k of ['broker', 'site', 'gateway', 'ca', 'cert', 'key'] as const) {
    if (typeof values[k] !== 'string') throw new VitalwireError('VW_ERR_USAGE', `--${k} is required (or give --config FILE)`);
  }
  const specs = (values['device'] as string[] | undefined) ?? [];
  if (specs.length === 0) throw new VitalwireError('VW_ERR_USAGE', 'at least one --device is required (or give --config FILE)');
  return gatewayConfig({
    site: String(values['site']),
    gateway: String(values['gateway']),
    broker: { urls: [String(values['broker'])] },
    tls: { ca: String(values['ca']), cert: String(values['cert']), key: String(values['key']) },
    dataDir: String(values['data-dir']),
    devices: specs.map(parseDeviceSpec),
  }, process.cwd());
}

function describe(c: GatewayConfig, file: string): string {
  const lines = [`${file}: valid`, `  site ${c.site}, gateway ${c.gateway}, broker ${c.broker.urls.join(', ')}`, `  data ${c.dataDir}, quota ${c.outbox.quotaBytes} bytes`];
  for (const d of c.devices) {
    const t = d.transport;
    const where = t.kind === 'tcp' ? `${t.host}:${t.port}` : t.kind === 'mllp-listener' ? `${t.host}:${t.port} from ${t.allowedPeers.join(' ')}` : t.path;
    const after = silenceAfterMs(d.protocol, d.silence);
    const silence = after === null ? 'silence not judged' : `silent after ${after / 1000} s without a frame`;
    lines.push(`  device ${d.id}: ${d.protocol} over ${t.kind} ${where}; ${silence}${d.simulated ? '; SIMULATED (FLAG_SIMULATED on all it produces)' : ''}`);
  }
  return `${lines.join('\n')}\n`;
}

export async function runGateway(argv: string[]): Promise<number> {
  if (argv[0] === 'init') return (await import('./gateway-init.js')).runGatewayInit(argv.slice(1));
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
