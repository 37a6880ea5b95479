// vitalwire command line: one binary, one sub-command per role.
import { VitalwireError } from '../lib/errors.js';
import { version } from '../lib/version.js';
import type { CommandSpec } from './args.js';

interface Command {
  spec: CommandSpec;
  run: (argv: string[]) => Promise<number>;
}

// Each command's module is loaded only when that command runs: a gateway box does not load the broker, the
// dashboard bundler or the simulators (tens of MB of resident memory).
const COMMANDS: Record<string, () => Promise<Command>> = {
  demo: () => import('./demo.js').then((m) => ({ spec: m.demoCommand, run: m.runDemo })),
  central: () => import('./central.js').then((m) => ({ spec: m.centralCommand, run: m.runCentral })),
  gateway: () => import('./gateway.js').then((m) => ({ spec: m.gatewayCommand, run: m.runGateway })),
  simulate: () => import('./simulate.js').then((m) => ({ spec: m.simulateCommand, run: m.runSimulate })),
  replay: () => import('./replay.js').then((m) => ({ spec: m.replayCommand, run: m.runReplay })),
  ca: () => import('./ca.js').then((m) => ({ spec: m.caCommand, run: m.runCa })),
  gateways: () => import('./gateways.js').then((m) => ({ spec: m.gatewaysCommand, run: m.runGateways })),
  users: () => import('./users.js').then((m) => ({ spec: m.usersCommand, run: m.runUsers })),
  audit: () => import('./audit.js').then((m) => ({ spec: m.auditCommand, run: (argv) => m.runAudit(argv) })),
  decode: () => import('./decode.js').then((m) => ({ spec: m.decodeCommand, run: m.runDecode })),
  watch: () => import('./watch.js').then((m) => ({ spec: m.watchCommand, run: (argv) => m.runWatch(argv) })),
  export: () => import('./export.js').then((m) => ({ spec: m.exportCommand, run: m.runExportCommand })),
  bind: () => import('./bind.js').then((m) => ({ spec: m.bindCommand, run: m.runBind })),
};

export async function usage(): Promise<string> {
  const specs = await Promise.all(Object.values(COMMANDS).map(async (load) => (await load()).spec));
  const rows = specs.map((spec) => `  ${spec.name.padEnd(10)} ${spec.summary}`);
  return `vitalwire: IoMT device gateway and vital-signs streaming\n\nUsage: vitalwire <command> [options]\n\nCommands:\n${rows.join(
    '\n',
  )}\n\nRun 'vitalwire <command> --help' for a command's options; 'vitalwire --version' prints the version.\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === '--version' || cmd === '-V' || cmd === 'version') {
    process.stdout.write(`vitalwire ${version()} (node ${process.version})\n`);
    return 0;
  }
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(await usage());
    return cmd === undefined ? 2 : 0;
  }
  const load = Object.hasOwn(COMMANDS, cmd) ? COMMANDS[cmd] : undefined;
  if (!load) {
    process.stderr.write(`vitalwire: unknown command '${cmd}'\n\n${await usage()}`);
    return 2;
  }
  try {
    return await (await load()).run(rest);
  } catch (err) {
    if (err instanceof VitalwireError && err.code === 'VW_ERR_USAGE') {
      process.stderr.write(`vitalwire ${cmd}: ${err.message}\nRun 'vitalwire ${cmd} --help'.\n`);
      return 2;
    }
    process.stderr.write(`vitalwire ${cmd}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
