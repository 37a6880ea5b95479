// Reference broker for the broker bench: Aedes over TLS as vitalwire runs it (the same TLS options, the same write
// coalescing and parser fast path, default in-memory persistence) with no policy at all: no authentication, no ACLs,
// no limits, no metrics. Its CPU per message against vitalwire's is what vitalwire's policy layer costs. Never a
// deployment: it lets anyone in.
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:tls';
import { Aedes } from 'aedes';
import { fastParse, stageWrites } from '../broker/aedes-internals/index.js';

const [key, cert, ca] = process.argv.slice(2).map((p) => readFileSync(p));
const broker = await Aedes.createBroker({});
const server = createServer(
  { key, cert, ca, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.2' },
  (s) => {
    stageWrites(s);
    fastParse(broker.handle(s));
  },
);
server.listen(0, '127.0.0.1', () => process.stdout.write(`bare aedes on ${(server.address() as AddressInfo).port}\n`));
process.on('SIGTERM', () => broker.close(() => process.exit(0)));
