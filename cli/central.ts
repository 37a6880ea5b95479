// `vitalwire central`: the central broker. Three ways to run it:
//   --config FILE        production: a validated config file (docs/broker.md); --check-config only validates it
//   --lab --port N       the conformance listener: plain TCP, no authentication, no ACLs, loopback only
//   (neither)            development: a dev CA under --data-dir, the broker on TLS and the dashboard fan-out
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { VitalwireError } from '../lib/errors.js';
import { brokerOptions, centralConfig, loadCentralConfig, withRedis, type CentralConfig } from '../central/config.js';
import { startCentral, type Central } from '../central/central.js';
import { redactRedisUrl } from '../broker/cluster.js';
import { ensureDevPki } from '../broker/pki.js';
import { createLogger, type Logger } from '../lib/log.js';
import { currentAllocator, type Allocator } from '../central/allocator.js';
import { helpText, intOption, parse, untilSignal, type CommandSpec } from './args.js';

export const centralCommand: CommandSpec = {
  name: 'central',
  summary: 'Run the central broker (Aedes over TLS, client-certificate gateways) and the dashboard fan-out.',
  usage: 'central --config FILE [--check-config] [--redis URL]  |  central --lab --port N  |  central [dev options]',
  options: {
    config: { type: 'string', arg: 'FILE', help: 'broker config, YAML or JSON (docs/broker.md)' },
    'check-config': { type: 'boolean', help: 'validate --config, print a summary, and exit (0 valid, 1 invalid)' },
    redis: {
      type: 'string',
      arg: 'URL',
      help: 'share sessions, retained messages and traffic through this Redis (overrides the config)',
    },
    lab: {
      type: 'boolean',
      help: 'conformance listener: plain TCP, NO authentication, NO ACLs, loopback only; never for patient data',
    },
    host: { type: 'string', default: '127.0.0.1', arg: 'ADDR', help: 'address to bind (dev and lab modes)' },
    port: { type: 'string', arg: 'PORT', help: 'MQTT port (dev: TLS, default 8883; lab: TCP, default 1883)' },
    'http-port': { type: 'string', default: '8080', arg: 'PORT', help: 'dev mode: dashboard HTTP/WebSocket port' },
    'data-dir': {
      type: 'string',
      default: './.vitalwire',
      arg: 'DIR',
      help: 'dev mode: TLS material under DIR/tls (a dev CA is created if missing)',
    },
    site: {
      type: 'string',
      default: 'demo',
      arg: 'SITE',
      help: 'dev mode: site of the gateway certificate created with a new dev CA',
    },
    gateway: { type: 'string', default: 'gw1', arg: 'ID', help: 'dev mode: gateway id of that certificate' },
    users: {
      type: 'string',
      arg: 'FILE',
      help: 'dev mode: users file for MQTT and dashboard logins (vitalwire users add)',
    },
  },
};

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

async function runFromConfig(file: string, check: boolean, redisUrl: string | undefined): Promise<number> {
  const loaded = await loadCentralConfig(file);
  const config = redisUrl ? withRedis(loaded.config, redisUrl) : loaded.config;
  if (check) {
    await brokerOptions(config, loaded.configDir); // the files it names must be readable too
    process.stdout.write(`central: ${loaded.file} is valid\n`);
    process.stdout.write(
      `central: ${config.lab ? 'lab mqtt' : 'mqtts'} ${hostPort(config.listen.host, config.listen.port)}` +
        `${config.websocket ? `, wss :${config.websocket.port}${config.websocket.path}` : ''}` +
        `${config.http ? `, health/metrics http ${hostPort(config.http.host, config.http.port)}` : ''}` +
        `${config.redis ? `, redis ${redactRedisUrl(config.redis.url)}` : ', single node'}\n`,
    );
    process.stdout.write(`central: limits ${JSON.stringify(config.limits)}\n`);
    return 0;
  }
  return run(config, loaded.configDir, createLogger('vitalwire-central', config.log.level));
}

/** Starts the central side from a validated config, says where it listens, and runs until a signal. */
async function run(config: CentralConfig, baseDir: string, log: Logger, extra = ''): Promise<number> {
  const central = await startCentral({ config, baseDir, logger: log });
  printListening(central);
  if (extra) process.stdout.write(extra);
  process.stdout.write('central: ready\n');
  await untilSignal();
  await central.close();
  return 0;
}

function printListening({ broker: b, fanout }: Central): void {
  process.stdout.write(`central: garbage collector ${gcLine(process.execArgv, availableParallelism())}\n`);
  if (b.mode === 'lab') {
    process.stderr.write(
      'central: LAB LISTENER: no authentication, no ACLs. For MQTT conformance suites on this machine only;\n' +
        'central: it must never carry patient data.\n',
    );
    process.stdout.write(`central: lab MQTT (plain TCP) on ${hostPort(b.host, b.port)}\n`);
    return;
  }
  process.stdout.write(`central: MQTT over TLS on ${hostPort(b.host, b.port)} (broker ${b.id}, ${b.mode})\n`);
  if (b.wsPort !== null) process.stdout.write(`central: MQTT over secure WebSocket on port ${b.wsPort}\n`);
  if (b.httpPort !== null)
    process.stdout.write(`central: health and metrics on http port ${b.httpPort} (/healthz, /metrics)\n`);
  if (fanout) process.stdout.write(`central: dashboard ${fanout.url} (log in with a users-file account)\n`);
  process.stdout.write(`central: memory allocator ${allocatorLine(currentAllocator())}\n`);
}

/** What the start-up says of V8's collector: on one CPU its helper threads only take turns with the event loop. */
function gcLine(execArgv: readonly string[], cpus: number): string {
  if (execArgv.includes('--single-threaded-gc')) return 'single-threaded';
  if (cpus > 1) return `parallel (${cpus} CPUs)`;
  return 'parallel on one CPU (started as `node bin/vitalwire`? The command bin/vitalwire runs it single-threaded there: docs/broker.md "One CPU")';
}

/** What the start-up says of the allocator: on glibc's, each idle TLS connection costs about 40 KiB more. */
function allocatorLine(a: Allocator): string {
  if (a === 'glibc')
    return 'glibc malloc (preload libjemalloc2 as deploy/vitalwire-central.service does: about 40 KiB less per TLS connection, docs/broker.md)';
  return a;
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
    const config = centralConfig(
      { lab: true, listen: { host, port: intOption(values['port'] ?? '1883', 'port', 0, 65535) } },
      '--lab',
    );
    return run(config, process.cwd(), createLogger('vitalwire-central-lab'));
  }

  // Development: a dev CA under --data-dir, the broker on TLS and the dashboard fan-out, the same config shape.
  const dataDir = resolve(String(values['data-dir']));
  const pki = await ensureDevPki(dataDir, {
    site: String(values['site']),
    gateway: String(values['gateway']),
    hosts: [host],
  });
  const config = centralConfig(
    {
      listen: { host, port: intOption(values['port'] ?? '8883', 'port', 0, 65535) },
      tls: { ca: pki.caCert, cert: pki.brokerCert, key: pki.brokerKey },
      ...(typeof values['users'] === 'string' ? { users: { file: resolve(values['users']) } } : {}),
      ...(redis ? { redis: { url: redis } } : {}),
      fanout: { host, port: intOption(values['http-port'], 'http-port', 0, 65535) },
      dataDir,
    },
    'development options',
  );
  return run(config, process.cwd(), createLogger('vitalwire-central'), `central: development CA ${pki.caCert}\n`);
}
