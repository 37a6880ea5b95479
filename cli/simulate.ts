import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { createLogger } from '../lib/log.js';
import { VitalwireError } from '../lib/errors.js';
import { runMonitor, simulatedEui64 } from '../simulators/monitor.js';
import { openSerialSink, openTcpSink } from '../simulators/sinks.js';
import { fileTruth, noTruth } from '../simulators/ground-truth.js';
import { prepareRunner } from '../simulators/runner.js';
import { loadScenario, wardScenario, type Scenario } from '../simulators/scenario.js';
import { parseHostPort, startUplinkGate, type UplinkGate } from '../simulators/uplink-gate.js';
import { helpText, intOption, parse, untilSignal, type CommandSpec } from './args.js';

export const simulateCommand: CommandSpec = {
  name: 'simulate',
  summary:
    'Run simulated devices with synthetic patients. One bedside monitor speaking HL7 PCD-01 in MLLP framing (--serial or\n' +
    '--tcp-listen), or a whole ward of mixed protocols (--ward N: HL7 over MLLP and TCP, Nonin 7 and 8, Masimo, Datex S/5,\n' +
    'BLE bridge; or --scenario FILE) that writes the gateway device config to use (--gateway-config FILE). HL7 messages say\n' +
    "they are simulated in HL7's own terms (MSH-11 processing id T, OBX-8 DEMO on every value), so no screen shows them as\n" +
    "a patient's; in a gateway config, also mark the device `simulated: true` (the ward's config does).",
  usage: 'simulate (--serial PATH | --tcp-listen PORT | --ward N | --scenario FILE) [options]',
  options: {
    serial: { type: 'string', arg: 'PATH', help: 'write to this serial port or pty' },
    baud: { type: 'string', default: '115200', arg: 'N', help: 'serial baud rate' },
    'tcp-listen': { type: 'string', arg: 'PORT', help: 'listen on TCP and send to every gateway that connects' },
    host: {
      type: 'string',
      default: '127.0.0.1',
      arg: 'ADDR',
      help: "address for --tcp-listen and the ward's TCP ports",
    },
    bed: { type: 'string', default: '1', arg: 'N', help: 'bed number (sets the bed label and device EUI-64)' },
    seed: {
      type: 'string',
      default: '1',
      arg: 'N',
      help: 'seed of the synthetic patient(s): the same seed gives the same data',
    },
    'interval-ms': { type: 'string', default: '1000', arg: 'MS', help: 'time between messages' },
    demo: { type: 'boolean', help: 'mark values as demo-mode data (OBX-8 DEMO); the default, kept for old scripts' },
    'as-real': {
      type: 'boolean',
      help: 'send without any simulator mark (MSH-11 P, no DEMO), as a real monitor would: conformance tests only, never where a clinician can see it',
    },
    ward: { type: 'string', arg: 'N', help: 'simulate a ward of N devices of mixed protocols (1-500)' },
    scenario: {
      type: 'string',
      arg: 'FILE',
      help: 'simulate the ward, events and faults of a scenario file (docs/simulators.md)',
    },
    'gateway-config': {
      type: 'string',
      arg: 'FILE',
      help: 'write the gateway `devices:` for the ward here (other keys of an existing file are kept)',
    },
    truth: { type: 'string', arg: 'FILE', help: 'write the ground truth (every value and sample sent, NDJSON) here' },
    'duration-s': {
      type: 'string',
      arg: 'S',
      help: "stop after this many seconds (default: the scenario's, else until Ctrl-C)",
    },
    'pty-dir': {
      type: 'string',
      arg: 'DIR',
      help: "where the ward's pty links are made (default: a temporary directory)",
    },
    'no-socat': { type: 'boolean', help: 'serial devices on TCP ports even when socat is installed' },
    'uplink-gate': {
      type: 'string',
      arg: 'LISTEN=TARGET',
      help: "relay the gateway's broker connection (HOST:PORT=HOST:PORT) and cut it at the scenario's uplink outages",
    },
  },
};

export async function runSimulate(argv: string[]): Promise<number> {
  const { values } = parse(simulateCommand, argv);
  if (values['help']) {
    process.stdout.write(helpText(simulateCommand));
    return 0;
  }
  if (typeof values['ward'] === 'string' || typeof values['scenario'] === 'string') return runWard(values);
  const log = createLogger('vitalwire-simulate');
  const bed = intOption(values['bed'], 'bed', 1, 255);
  const asReal = Boolean(values['as-real']);
  if (asReal && values['demo']) throw new VitalwireError('VW_ERR_USAGE', '--as-real and --demo contradict each other');
  if (asReal) {
    log.warn(
      { bed },
      'simulate --as-real: this synthetic patient is sent WITHOUT any simulator mark and looks like a real one; for conformance tests only',
    );
  }
  let sink;
  if (typeof values['serial'] === 'string')
    sink = await openSerialSink(values['serial'], intOption(values['baud'], 'baud', 50, 4_000_000));
  else if (typeof values['tcp-listen'] === 'string') {
    sink = await openTcpSink(String(values['host']), intOption(values['tcp-listen'], 'tcp-listen', 0, 65535));
    process.stdout.write(`simulate: listening on ${String(values['host'])}:${sink.port ?? 0}\n`);
  } else throw new VitalwireError('VW_ERR_USAGE', 'give --serial PATH, --tcp-listen PORT, --ward N or --scenario FILE');
  const mon = runMonitor({
    identity: { eui64: simulatedEui64(bed), model: 'VW-SIM-PCD01', bed: `Bed ${bed}` },
    sink,
    seed: intOption(values['seed'], 'seed', 0, 2 ** 31),
    intervalMs: intOption(values['interval-ms'], 'interval-ms', 10, 3_600_000),
    asReal,
  });
  log.info({ bed, marked: !asReal }, 'simulated monitor running');
  await untilSignal();
  mon.stop();
  await sink.close();
  return 0;
}

/** Writes `devices:` into FILE, keeping the other keys of an existing file (YAML or JSON). */
function writeGatewayDevices(file: string, devices: unknown[]): void {
  const json = file.endsWith('.json');
  let doc: Record<string, unknown> = {};
  if (existsSync(file)) {
    const text = readFileSync(file, 'utf8');
    const parsed: unknown = json ? JSON.parse(text) : parseYaml(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) doc = parsed as Record<string, unknown>;
  }
  doc['devices'] = devices;
  writeFileSync(file, json ? JSON.stringify(doc, null, 2) + '\n' : stringifyYaml(doc), { mode: 0o600 });
}

async function runWard(values: Record<string, string | boolean | string[] | undefined>): Promise<number> {
  const log = createLogger('vitalwire-simulate', process.env['VW_LOG_LEVEL'] ?? 'warn');
  if (typeof values['ward'] === 'string' && typeof values['scenario'] === 'string')
    throw new VitalwireError('VW_ERR_USAGE', '--ward and --scenario exclude each other');
  if (values['as-real'])
    throw new VitalwireError('VW_ERR_USAGE', '--as-real is for one monitor; a scenario sets quirks.asReal per device');
  const seed = intOption(values['seed'], 'seed', 0, 2 ** 31 - 1);
  const sc: Scenario =
    typeof values['scenario'] === 'string'
      ? await loadScenario(values['scenario'])
      : wardScenario(intOption(values['ward'], 'ward', 1, 500), seed);
  const ptyDir = typeof values['pty-dir'] === 'string' ? values['pty-dir'] : join(tmpdir(), `vw-sim-${process.pid}`);
  mkdirSync(ptyDir, { recursive: true, mode: 0o700 });
  const truth = typeof values['truth'] === 'string' ? fileTruth(values['truth']) : noTruth;
  let gate: UplinkGate | null = null;
  if (typeof values['uplink-gate'] === 'string') {
    const [l, t] = values['uplink-gate'].split('=');
    const listen = parseHostPort(l ?? '');
    const target = parseHostPort(t ?? '');
    if (!listen || !target)
      throw new VitalwireError(
        'VW_ERR_USAGE',
        '--uplink-gate must be LISTEN=TARGET, e.g. 127.0.0.1:18883=127.0.0.1:8883',
      );
    gate = await startUplinkGate(listen, target);
    process.stdout.write(`simulate: uplink gate on ${listen.host}:${gate.port} -> ${target.host}:${target.port}\n`);
  } else if (sc.uplink.length > 0) {
    log.warn('the scenario has uplink outages but no --uplink-gate: they are not enacted');
  }
  const g = gate;
  const runner = await prepareRunner({
    scenario: sc,
    truth,
    logger: log,
    ptyDir,
    host: String(values['host']),
    noSocat: Boolean(values['no-socat']),
    onUplink: (down) => {
      g?.set(down);
      process.stderr.write(`\nsimulate: uplink ${down ? 'cut' : 'restored'}\n`);
    },
  });
  if (typeof values['gateway-config'] === 'string') {
    writeGatewayDevices(values['gateway-config'], runner.gatewayDevices);
    process.stdout.write(
      `simulate: wrote ${runner.gatewayDevices.length} gateway devices to ${values['gateway-config']}\n`,
    );
  }
  runner.start();
  process.stdout.write(
    `simulate: ${sc.name ?? 'scenario'}: ${runner.gatewayDevices.length} devices running (seed ${sc.seed})\n`,
  );
  const tty = process.stderr.isTTY;
  let last = 0;
  const progress = setInterval(() => {
    if (tty) process.stderr.write(`\r${runner.progress()}   `);
    else if (Date.now() - last >= 5000) {
      last = Date.now();
      process.stderr.write(`${runner.progress()}\n`);
    }
  }, 1000);
  const durationS =
    typeof values['duration-s'] === 'string'
      ? intOption(values['duration-s'], 'duration-s', 1, 30 * 86_400)
      : sc.durationS;
  const stopAt =
    durationS !== undefined
      ? new Promise<string>((r) => setTimeout(() => r('duration'), durationS * 1000))
      : new Promise<string>(() => undefined);
  const why = await Promise.race([untilSignal(), stopAt]);
  clearInterval(progress);
  process.stderr.write(`\n${why}: ${runner.progress()}\n`);
  await runner.stop(2000);
  await truth.close();
  await gate?.close();
  return 0;
}
