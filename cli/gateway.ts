import { readFileSync } from 'node:fs';
import { VitalwireError } from '../decoders/errors.js';
import { protocolIds } from '../decoders/registry.js';
import { startGateway, type DeviceConfig } from '../gateway/gateway.js';
import { createLogger } from '../lib/log.js';
import { isValidSegment } from '../lib/topics.js';
import { helpText, parse, untilSignal, type CommandSpec } from './args.js';

export const gatewayCommand: CommandSpec = {
  name: 'gateway',
  summary: 'Run an edge gateway: read devices, decode to standard observations, publish over TLS MQTT.',
  usage: 'gateway --broker URL --site SITE --gateway ID --ca FILE --cert FILE --key FILE --device SPEC [--device SPEC...]',
  options: {
    broker: { type: 'string', arg: 'URL', help: 'broker URL, e.g. mqtts://central.example:8883' },
    site: { type: 'string', arg: 'SITE', help: 'site id (must match the certificate)' },
    gateway: { type: 'string', arg: 'ID', help: 'gateway id (must match the certificate)' },
    ca: { type: 'string', arg: 'FILE', help: 'CA certificate (PEM) that signed the broker certificate' },
    cert: { type: 'string', arg: 'FILE', help: 'this gateway\'s client certificate (PEM)' },
    key: { type: 'string', arg: 'FILE', help: 'this gateway\'s private key (PEM)' },
    device: {
      type: 'string',
      multiple: true,
      arg: 'SPEC',
      help: 'id=ID,protocol=hl7,serial=PATH[,baud=N][,bed=LABEL] or id=ID,protocol=hl7,tcp=HOST:PORT[,bed=LABEL]',
    },
  },
};

export function parseDeviceSpec(spec: string): DeviceConfig {
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

export async function runGateway(argv: string[]): Promise<number> {
  const { values } = parse(gatewayCommand, argv);
  if (values['help']) {
    process.stdout.write(helpText(gatewayCommand));
    return 0;
  }
  for (const k of ['broker', 'site', 'gateway', 'ca', 'cert', 'key'] as const) {
    if (typeof values[k] !== 'string') throw new VitalwireError('VW_ERR_USAGE', `--${k} is required`);
  }
  const specs = (values['device'] as string[] | undefined) ?? [];
  if (specs.length === 0) throw new VitalwireError('VW_ERR_USAGE', 'at least one --device is required');
  const gw = await startGateway({
    brokerUrl: String(values['broker']),
    site: String(values['site']),
    gateway: String(values['gateway']),
    tls: {
      ca: readFileSync(String(values['ca'])),
      cert: readFileSync(String(values['cert'])),
      key: readFileSync(String(values['key'])),
    },
    devices: specs.map(parseDeviceSpec),
    logger: createLogger('vitalwire-gateway'),
  });
  await untilSignal();
  await gw.close();
  return 0;
}
