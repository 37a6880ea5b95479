import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { bundleDashboard } from '../dashboard/bundle.js';
import { ensureDevPki } from '../broker/pki.js';
import { startCentral } from '../broker/central.js';
import { startFanout } from '../broker/fanout/server.js';
import { createLogger } from '../lib/log.js';
import { helpText, intOption, parse, untilSignal, type CommandSpec } from './args.js';

export const centralCommand: CommandSpec = {
  name: 'central',
  summary: 'Run the central broker (Aedes over TLS, client-certificate gateways) and the dashboard fan-out.',
  usage: 'central [options]',
  options: {
    host: { type: 'string', default: '127.0.0.1', arg: 'ADDR', help: 'address to bind' },
    port: { type: 'string', default: '8883', arg: 'PORT', help: 'MQTT over TLS port' },
    'http-port': { type: 'string', default: '8080', arg: 'PORT', help: 'dashboard HTTP/WebSocket port' },
    'data-dir': { type: 'string', default: './.vitalwire', arg: 'DIR', help: 'TLS material under DIR/tls (a dev CA is created if missing)' },
    site: { type: 'string', default: 'demo', arg: 'SITE', help: 'site of the gateway certificate created with a new dev CA' },
    gateway: { type: 'string', default: 'gw1', arg: 'ID', help: 'gateway id of that certificate' },
  },
};

export async function runCentral(argv: string[]): Promise<number> {
  const { values } = parse(centralCommand, argv);
  if (values['help']) {
    process.stdout.write(helpText(centralCommand));
    return 0;
  }
  const log = createLogger('vitalwire-central');
  const host = String(values['host']);
  const pki = await ensureDevPki(resolve(String(values['data-dir'])), {
    site: String(values['site']),
    gateway: String(values['gateway']),
    hosts: [host],
  });
  const central = await startCentral({
    host,
    port: intOption(values['port'], 'port', 0, 65535),
    tls: { key: readFileSync(pki.brokerKey), cert: readFileSync(pki.brokerCert), ca: readFileSync(pki.caCert) },
    logger: log,
  });
  const token = randomBytes(24).toString('base64url');
  const fanout = await startFanout({
    broker: central.broker,
    host,
    port: intOption(values['http-port'], 'http-port', 0, 65535),
    token,
    assets: await bundleDashboard(),
    logger: log,
  });
  process.stdout.write(`central: MQTT over TLS on ${central.host}:${central.port}, CA ${pki.caCert}\n`);
  process.stdout.write(`central: dashboard ${fanout.url}#token=${token}\n`);
  await untilSignal();
  await fanout.close();
  await central.close();
  return 0;
}
