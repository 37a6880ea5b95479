// npm run bench -- <name|all> [--quick] [--json]
// stdout: one JSON line per result (then a table unless --json); stderr: progress.
import { benches } from './index.js';
import { runCli } from './lib/cli.js';

process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e; // `| head` closed the pipe: not an error of the bench
});
process.exitCode = await runCli(process.argv.slice(2), benches, {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
});
