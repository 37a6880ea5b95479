// The vitalwire command run from its TypeScript sources through tsx, as bin/vitalwire did before dist/ existed: the
// gateway bench's VW_BENCH_GATEWAY_RUNNER=tsx measures that configuration against the compiled one.
import { main } from '../../cli/main.js';

process.exitCode = await main(process.argv.slice(2));
