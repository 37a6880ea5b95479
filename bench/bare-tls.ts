// Reference for the broker bench's memory figure: a bare Node TLS server with the broker's certificate options
// (the same key, certificate, CA, requestCert, TLS 1.2 minimum and suites as broker/listeners.ts) that does nothing
// with its connections. RSS per idle mutual-TLS connection against it is what vitalwire adds to Node's TLS socket.
// Never a deployment.
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:tls';
import { TLS12_CIPHERS } from '../broker/listeners.js';

const [key, cert, ca] = process.argv.slice(2).map((p) => readFileSync(p));
const server = createServer({
  key,
  cert,
  ca,
  requestCert: true,
  rejectUnauthorized: false,
  minVersion: 'TLSv1.2',
  ciphers: TLS12_CIPHERS,
  honorCipherOrder: true,
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`bare tls on ${(server.address() as AddressInfo).port}\n`));
process.on('SIGTERM', () => process.exit(0));
