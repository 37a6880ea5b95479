// `vitalwire central`: the central broker. Three ways to run it:
//   --config FILE        production: a validated config file (docs/broker.md); --check-config only validates it
//   --lab --port N       the conformance listener: plain TCP, no authentication, no ACLs, loopback only
//   (neither)            development: a dev CA under --data-dir, the broker on TLS and the dashboard fan-out
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { bundleDashboard } from '../dashboard/bundle.js';
import { VitalwireError } from '../decoders/errors.js';
import { centralOptionsFromConfig, loadCentralConfig } from '../central/config.js';
import { startCentral, type Central } from '../broker/broker.js';
import { redactRedisUrl } from '../broker/cluster.js';
import { startFanout, type Fanout } from '../fanout/server.js';
import { fanoutSecurity } from '../fanout/setup.js';
import { openUsersFile } from '../broker/users-file.js';
import { ensureDevPki } from '../broker/pki.js';
import { createLogger } from '../lib/log.js';
import { helpText, intOption, parse, untilSignal, type CommandSpec } from './args.js';

export const centralCommand: CommandSpec = {
  name: 'central',
  summary: 'Run the central broker (Aedes over TLS, client-certificate gateways) and the dashboard fan-out.',
  usage: 'central --config FILE [--check-config] [--redis URL]  |  central --lab --port N  |  central [dev options]',
  options: {
    config: { type: 'string', arg: 'FILE', help: 'broker config, YAML or JSON (docs/broker.md)' },
    'check-config': { type: 'boolean', help: 'validate --config, print a summary, and exit (0 valid, 1 invalid)' },
    redis: { type: 'string', arg: 'URL', help: 'share sessions, retained messages and traffic through this Redis (overrides the config)' },
    lab: { type: 'boolean', help: 'conformance listener: plain TCP, NO authentication, NO ACLs, loopback only; never for patient data' },
    host: { type: 'string', default: '127.0.0.1', arg: 'ADDR', help: 'address to bind (dev and lab modes)' },
    port: { type: 'string', arg: 'PORT', help: 'MQTT port (dev: TLS, default 8883; lab: TCP, default 1883)' },
    'http-port': { type: 'string', default: '8080', arg: 'PORT', help: 'dev mode: dashboard HTTP/WebSocket port' },
    'data-dir': { type: 'string', default: './.vitalwire', arg: 'DIR', help: 'dev mode: TLS material under DIR/tls (a dev CA is created if missing)' },
    site: { type: 'string', default: 'demo', arg: 'SITE', help: 'dev mode: site of the gateway certificate created with a new dev CA' },
    gateway: { type: 'string', default: 'gw1', arg: 'ID', help: 'dev mode: gateway id of that certificate' },
    users: { type: 'string', arg: 'FILE', help: 'dev mode: users file for MQTT and dashboard logins (vitalwire users add)' },
  },
};

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

async function runFromConfig(file: string, check: boolean, redisUrl: string | undefined): Promise<number> {
  const { config, configDir, file: abs } = await loadCentralConfig(file);
  const log = createLogger('vitalwire-central', config.log.level);
  const opts = await centralOptionsFromConfig(config, configDir, log, redisUrl ? { redisUrl } : {});
  if (check) {
    process.stdout.write(`central: ${abs} is valid\n`);
    process.stdout.write(`central: mqtts ${hostPort(config.listen.host, config.listen.port)}` +
      `${config.websocket ? `, wss :${config.websocket.port}${config.websocket.path}` : ''}` +
      `${config.http ? `, health/metrics http ${hostPort(config.http.host, config.http.port)}` : ''}` +
      `${opts.redis ? `, redis ${redactRedisUrl(opts.redis.url)}` : ', single node'}\n`);
    process.stdout.write(`central: limits ${JSON.stringify(config.limits)}\n`);
    return 0;
  }
  const central = await startCentral(opts);
  let fanout: Fanout | null = null;
  try {
    if (config.fanout) {
      // Session key and audit log live beside the config file (docs/dashboard.md).
      const security = await fanoutSecurity({ stateDir: configDir, users: opts.users, redisUrl: opts.redis?.url, logger: log });
      fanout = await startFanout({
        broker: central.broker, host: config.fanout.host, port: config.fanout.port, assets: await bundleDashboard(), logger: log, ...security,
      });
    }
  } catch (err) {
    await central.close();
    throw err;
  }
  printListening(central);
  if (fanout) process.stdout.write(`central: dashboard ${fanout.url} (log in with a users-file account)\n`);
  process.stdout.write('central: ready\n');
  await untilSignal();
  await fanout?.close();
  await central.close();
  return 0;
}

function printListening(c: Central): void {
  process.stdout.write(`central: MQTT over TLS on ${hostPort(c.host, c.port)} (broker ${c.id}, ${c.mode})\n`);
  if (c.wsPort !== null) process.stdout.write(`central: MQTT over secure WebSocket on port ${c.wsPort}\n`);
  if (c.httpPort !== null) process.stdout.write(`central: health and metrics on http port ${c.httpPort} (/healthz, /metrics)\n`);
}

async function runLab(host: string, port: number): Promise<number> {
  const log = createLogger('vitalwire-central-lab');
  const central = await startCentral({ lab: true, host, port, logger: log });
  process.stderr.write('central: LAB LISTENER: no authentication, no ACLs. For MQTT conformance suites on this machine only;\n' +
    'central: it must never carry patient data.\n');
  process.stdout.write(`central: lab MQTT (plain TCP) on ${hostPort(central.host, central.port)}\n`);
  process.stdout.write('central: ready\n');
  await untilSignal();
  await central.close();
  return 0;
}

export async function runCentral(argv: string[]): Promise<number> {
  const { values } = parse(centralCommand, argv);
  if (values['help']) {
    process.stdout.write(helpText(centralCommand));
    return 0;
  }
  const redis = typeof values['redis'] === 'string' ? values['redis'] : undefined;
  if (typeof values['config'] === 'string') {
    if (values['lab']) throw new VitalwireError('VW_ERR_USAGE', '--lab and --config do not go together');
    return runFromConfig(values['config'], values['check-config'] === true, redis);
  }
  if (values['check-config']) throw new VitalwireError('VW_ERR_USAGE', '--check-config needs --config FILE');
  const host = String(values['host']);
  if (values['lab']) {
    if (redis) throw new VitalwireError('VW_ERR_USAGE', '--lab runs a single in-memory broker; --redis does not apply');
    return runLab(host, intOption(values['port'] ?? '1883', 'port', 0, 65535));
  }

  const log = createLogger('vitalwire-central');
  const pki = await ensureDevPki(resolve(String(values['data-dir'])), {
    site: String(values['site']),
    gateway: String(values['gateway']),
    hosts: [host],
  });
  const users = typeof values['users'] === 'string' ? await openUsersFile(resolve(values['users'])) : undefined;
  const central = await startCentral({
    host,
    port: intOption(values['port'] ?? '8883', 'port', 0, 65535),
    tls: { key: readFileSync(pki.brokerKey), cert: readFileSync(pki.brokerCert), ca: readFileSync(pki.caCert) },
    logger: log,
    ...(users ? { users } : {}),
    ...(redis ? { redis: { url: redis } } : {}),
  });
  const fanout = await startFanout({
    broker: central.broker,
    host,
    port: intOption(values['http-port'], 'http-port', 0, 65535),
    assets: await bundleDashboard(),
    logger: log,
    ...(await fanoutSecurity({ stateDir: resolve(String(values['data-dir'])), users, redisUrl: redis, logger: log })),
  });
  process.stdout.write(`central: MQTT over TLS on ${hostPort(central.host, central.port)}, CA ${pki.caCert}\n`);
  process.stdout.write(`central: dashboard ${fanout.url} (log in with a --users account)\n`);
  await untilSignal();
  await fanout.close();
  await central.close();
  return 0;
}
