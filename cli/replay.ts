import { connect, type Socket } from 'node:net';
import { VitalwireError } from '../lib/errors.js';
import { loadCapture, playChunks } from '../simulators/replay.js';
import { openSerialSink } from '../simulators/sinks.js';
import { openTcpPort } from '../simulators/transports.js';
import { parseHostPort } from '../simulators/uplink-gate.js';
import { helpText, parse, type CommandSpec } from './args.js';

export const replayCommand: CommandSpec = {
  name: 'replay',
  summary:
    'Replay a raw device capture made by `vitalwire gateway --record DIR` (<device>-<start>.raw and .idx) with its original\n' +
    'timing, so a field capture becomes a regression test. The capture holds patient data: replay it only into test systems.',
  usage: 'replay FILE.raw --target (tcp-listen:PORT | tcp:HOST:PORT | serial:PATH) [--speed N]',
  positionals: true,
  options: {
    target: {
      type: 'string',
      arg: 'TARGET',
      help: 'tcp-listen:PORT (a terminal-server port the gateway dials; starts when it connects), tcp:HOST:PORT (dial), serial:PATH (a serial port or pty)',
    },
    speed: { type: 'string', default: '1', arg: 'N', help: 'time factor: 2 = twice as fast, 0 = as fast as possible' },
    baud: { type: 'string', default: '9600', arg: 'N', help: 'baud rate for serial:PATH' },
  },
};

export async function runReplay(argv: string[]): Promise<number> {
  const { values, positionals } = parse(replayCommand, argv);
  if (values['help']) {
    process.stdout.write(helpText(replayCommand));
    return 0;
  }
  const file = positionals[0];
  if (!file || positionals.length > 1) throw new VitalwireError('VW_ERR_USAGE', 'give one capture file');
  const speed = Number(values['speed']);
  if (!Number.isFinite(speed) || speed < 0) throw new VitalwireError('VW_ERR_USAGE', '--speed must be a number >= 0');
  const target = typeof values['target'] === 'string' ? values['target'] : '';
  const chunks = loadCapture(file, speed);
  const total = chunks.reduce((a, c) => a + c.bytes.length, 0);
  let write: (b: Buffer) => void;
  let close: () => Promise<void>;
  if (target.startsWith('tcp-listen:')) {
    const hp = parseHostPort(target.slice('tcp-listen:'.length));
    if (!hp) throw new VitalwireError('VW_ERR_USAGE', 'tcp-listen:PORT or tcp-listen:HOST:PORT');
    const port = await openTcpPort(hp.host, hp.port);
    process.stdout.write(`replay: listening on ${hp.host}:${port.port ?? 0}, waiting for the gateway\n`);
    while (!port.connected) await new Promise((r) => setTimeout(r, 50));
    write = (b) => void port.write(b);
    close = () => port.close();
  } else if (target.startsWith('tcp:')) {
    const hp = parseHostPort(target.slice('tcp:'.length));
    if (!hp) throw new VitalwireError('VW_ERR_USAGE', 'tcp:HOST:PORT');
    const s: Socket = await new Promise((res, rej) => {
      const c = connect(hp.port, hp.host, () => res(c));
      c.once('error', rej);
    });
    s.on('data', () => undefined); // ACKs and requests from the far end are read and ignored
    write = (b) => void s.write(b);
    close = () => new Promise((res) => s.end(() => res()));
  } else if (target.startsWith('serial:')) {
    const sink = await openSerialSink(target.slice('serial:'.length), Number(values['baud']));
    write = (b) => sink.write(b);
    close = () => sink.close();
  } else throw new VitalwireError('VW_ERR_USAGE', '--target must be tcp-listen:PORT, tcp:HOST:PORT or serial:PATH');
  const t0 = Date.now();
  const n = await playChunks(chunks, write);
  await close();
  process.stdout.write(
    `replay: ${chunks.length} chunks, ${n} of ${total} bytes in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
  );
  return 0;
}
