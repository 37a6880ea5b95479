// vitalwire command line: one binary, one sub-command per role.
import { VitalwireError } from '../decoders/errors.js';
import { runCentral, centralCommand } from './central.js';
import { runDemo, demoCommand } from './demo.js';
import { runGateway, gatewayCommand } from './gateway.js';
import { runSimulate, simulateCommand } from './simulate.js';
import type { CommandSpec } from './args.js';

const COMMANDS: Record<string, { spec: CommandSpec; run: (argv: string[]) => Promise<number> }> = {
  demo: { spec: demoCommand, run: runDemo },
  central: { spec: centralCommand, run: runCentral },
  gateway: { spec: gatewayCommand, run: runGateway },
  simulate: { spec: simulateCommand, run: runSimulate },
};

export function usage(): string {
  const rows = Object.values(COMMANDS).map((c) => `  ${c.spec.name.padEnd(10)} ${c.spec.summary}`);
  return `vitalwire: IoMT device gateway and vital-signs streaming\n\nUsage: vitalwire <command> [options]\n\nCommands:\n${rows.join(
    '\n',
  )}\n\nRun 'vitalwire <command> --help' for a command's options.\n`;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(usage());
    return cmd === undefined ? 2 : 0;
  }
  const c = COMMANDS[cmd];
  if (!c) {
    process.stderr.write(`vitalwire: unknown command '${cmd}'\n\n${usage()}`);
    return 2;
  }
  try {
    return await c.run(rest);
  } catch (err) {
    if (err instanceof VitalwireError && err.code === 'VW_ERR_USAGE') {
      process.stderr.write(`vitalwire ${cmd}: ${err.message}\nRun 'vitalwire ${cmd} --help'.\n`);
      return 2;
    }
    process.stderr.write(`vitalwire ${cmd}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
