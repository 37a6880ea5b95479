// Reference for the broker bench's memory figure: a bare Node TLS server with the broker's certificate options
// (the same key, certificate, CA, requestCert, TLS 1.2 minimum and suites as broker/listeners.ts, the suites passed
// by the bench) that does nothing with its connections. RSS per idle mutual-TLS connection against it is what
// vitalwire adds to Node's TLS socket. Plain JavaScript run by node itself, as the broker runs from dist/: a TypeScript
// loader's start-up garbage, freed while connections were measured, read as -79 KiB per connection. Never a deployment.
import { createServer } from 'node:tls';
import { referenceTlsOptions } from './lib/reference-tls.mjs';

const server = createServer(referenceTlsOptions(process.argv.slice(2)));
server.listen(0, '127.0.0.1', () => process.stdout.write(`bare tls on ${server.address().port}\n`));
process.on('SIGTERM', () => process.exit(0));
