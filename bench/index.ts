// The bench registry: `npm run bench` lists these, `all` runs them in this order.
// To add a bench: write bench/<name>.bench.ts exporting `bench: Bench` (see lib/types.ts),
// import it here and append it to the list.
import type { Bench } from './lib/types.js';
import { bench as proto } from './proto.bench.js';
import { bench as e2e } from './e2e.bench.js';
import { bench as broker } from './broker.bench.js';
import { bench as hl7 } from './hl7.bench.js';
import { bench as gateway } from './gateway.bench.js';
import { bench as fanout } from './fanout.bench.js';
import { bench as archive } from './archive.bench.js';

export const benches: readonly Bench[] = [proto, hl7, e2e, broker, gateway, fanout, archive];
