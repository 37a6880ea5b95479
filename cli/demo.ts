import { resolve } from 'node:path';
import { createLogger } from '../lib/log.js';
import { helpText, intOption, parse, untilSignal, type CommandSpec } from './args.js';
import { startStack } from './stack.js';

export const demoCommand: CommandSpec = {
  name: 'demo',
  summary:
    'Run the whole system locally: broker (TLS MQTT), fan-out with the dashboard, a gateway and simulated monitors.',
  usage: 'demo [options]',
  options: {
    'http-port': { type: 'string', default: '8080', arg: 'PORT', help: 'dashboard HTTP port (0 = any free port)' },
    'mqtt-port': { type: 'string', default: '8883', arg: 'PORT', help: 'MQTT over TLS port (0 = any free port)' },
    'data-dir': {
      type: 'string',
      default: './.vitalwire',
      arg: 'DIR',
      help: 'where the dev PKI, runtime files and the archive live (vitalwire export --data-dir DIR --include-demo)',
    },
    beds: {
      type: 'string',
      default: '2',
      arg: 'N',
      help: 'number of simulated PCD-01 bedside monitors (with scripted alarms)',
    },
    ward: {
      type: 'string',
      default: '7',
      arg: 'N',
      help: 'devices of the mixed-protocol ward beside them (HL7 over MLLP and TCP, Nonin 7/8, Masimo, Datex S/5, BLE bridge; 0 = none)',
    },
    seed: { type: 'string', default: '1', arg: 'N', help: "seed of the ward's patients" },
    host: {
      type: 'string',
      default: '127.0.0.1',
      arg: 'ADDR',
      help: 'address to bind (the demo login exists only on loopback)',
    },
    'no-socat': { type: 'boolean', help: 'use TCP device links even when socat is installed' },
  },
};

export async function runDemo(argv: string[]): Promise<number> {
  const { values } = parse(demoCommand, argv);
  if (values['help']) {
    process.stdout.write(helpText(demoCommand));
    return 0;
  }
  const log = createLogger('vitalwire-demo', process.env['VW_LOG_LEVEL'] ?? 'warn');
  const stack = await startStack({
    dataDir: String(values['data-dir']),
    host: String(values['host']),
    mqttPort: intOption(values['mqtt-port'], 'mqtt-port', 0, 65535),
    httpPort: intOption(values['http-port'], 'http-port', 0, 65535),
    beds: intOption(values['beds'], 'beds', 1, 64),
    noSocat: Boolean(values['no-socat']),
    ward: {
      devices: intOption(values['ward'], 'ward', 0, 200),
      seed: intOption(values['seed'], 'seed', 0, 2 ** 31 - 1),
    },
    alarms: true, // scripted lead-off and limit alarms, so the dashboard shows what alarms look like
    logger: log,
  });
  const loop = stack.deviceLink === 'serial' ? 'virtual serial cables (socat ptys)' : 'TCP (socat not found)';
  process.stdout.write(
    [
      'vitalwire demo is running.',
      `  Dashboard:  ${stack.dashboardUrl}  (log in as demo / demo)`,
      `  MQTT (TLS): ${stack.mqttUrl}`,
      `  CA:         ${stack.caPath}`,
      `  Login:      demo / demo (observer, loopback only)`,
      `  Devices:    ${stack.monitors.length} simulated PCD-01 monitors (vitals, NIBP, temperature, ECG/pleth/resp waves, alarms; DEMO-flagged) over ${loop}`,
      ...(stack.ward
        ? [
            `  Ward:       ${stack.ward.devices.length} more devices of mixed protocols: ${[...new Set(stack.ward.devices.map((d) => `${d.spec.protocol}/${d.spec.transport}`))].join(', ')}`,
          ]
        : []),
      `  Watch:      VW_PASSWORD=demo vitalwire watch --broker ${stack.mqttUrl} --ca ${stack.caPath} --user demo --kind obs`,
      `  Archive:    ${stack.central.archive ? `${resolve(String(values['data-dir']))} (all simulated: vitalwire export --data-dir ${String(values['data-dir'])} --format fhir --include-demo)` : 'off'}`,
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
  const sig = await untilSignal();
  process.stdout.write(`\n${sig}: stopping...\n`);
  await stack.close();
  return 0;
}
