import { createLogger } from '../lib/log.js';
import { VitalwireError } from '../decoders/errors.js';
import { runMonitor, simulatedEui64 } from '../simulators/monitor.js';
import { openSerialSink, openTcpSink } from '../simulators/sinks.js';
import { helpText, intOption, parse, untilSignal, type CommandSpec } from './args.js';

export const simulateCommand: CommandSpec = {
  name: 'simulate',
  summary: 'Run a simulated bedside monitor (synthetic patient) speaking HL7 PCD-01 in MLLP framing. Its messages say they\n' +
    'are simulated in HL7\'s own terms (MSH-11 processing id T, OBX-8 DEMO on every value), so no screen shows them as a\n' +
    'patient\'s; in a gateway config, also mark the device `simulated: true` (FLAG_SIMULATED on all it produces).',
  usage: 'simulate (--serial PATH | --tcp-listen PORT) [options]',
  options: {
    serial: { type: 'string', arg: 'PATH', help: 'write to this serial port or pty' },
    baud: { type: 'string', default: '115200', arg: 'N', help: 'serial baud rate' },
    'tcp-listen': { type: 'string', arg: 'PORT', help: 'listen on TCP and send to every gateway that connects' },
    host: { type: 'string', default: '127.0.0.1', arg: 'ADDR', help: 'address for --tcp-listen' },
    bed: { type: 'string', default: '1', arg: 'N', help: 'bed number (sets the bed label and device EUI-64)' },
    seed: { type: 'string', default: '1', arg: 'N', help: 'seed of the synthetic patient' },
    'interval-ms': { type: 'string', default: '1000', arg: 'MS', help: 'time between messages' },
    demo: { type: 'boolean', help: 'mark values as demo-mode data (OBX-8 DEMO); the default, kept for old scripts' },
    'as-real': { type: 'boolean', help: 'send without any simulator mark (MSH-11 P, no DEMO), as a real monitor would: conformance tests only, never where a clinician can see it' },
  },
};

export async function runSimulate(argv: string[]): Promise<number> {
  const { values } = parse(simulateCommand, argv);
  if (values['help']) {
    process.stdout.write(helpText(simulateCommand));
    return 0;
  }
  const log = createLogger('vitalwire-simulate');
  const bed = intOption(values['bed'], 'bed', 1, 255);
  const asReal = Boolean(values['as-real']);
  if (asReal && values['demo']) throw new VitalwireError('VW_ERR_USAGE', '--as-real and --demo contradict each other');
  if (asReal) {
    log.warn({ bed }, 'simulate --as-real: this synthetic patient is sent WITHOUT any simulator mark and looks like a real one; for conformance tests only');
  }
  let sink;
  if (typeof values['serial'] === 'string') sink = await openSerialSink(values['serial'], intOption(values['baud'], 'baud', 50, 4_000_000));
  else if (typeof values['tcp-listen'] === 'string') {
    sink = await openTcpSink(String(values['host']), intOption(values['tcp-listen'], 'tcp-listen', 0, 65535));
    process.stdout.write(`simulate: listening on ${String(values['host'])}:${sink.port ?? 0}\n`);
  } else throw new VitalwireError('VW_ERR_USAGE', 'give --serial PATH or --tcp-listen PORT');
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
