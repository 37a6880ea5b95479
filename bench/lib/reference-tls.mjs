// The TLS server options of the broker bench's reference servers (bare-tls.mjs, bare-relay.mjs): the broker's key,
// certificate and CA, mutual TLS requested but judged by no one, TLS 1.2 at least, the suites the bench passes (the
// broker's, broker/listeners.ts), the server's order. One definition, so the references stay like for like.
import { readFileSync } from 'node:fs';

/** From the reference's argv: key, certificate and CA paths, then the cipher list. */
export function referenceTlsOptions([keyPath, certPath, caPath, ciphers]) {
  return {
    key: readFileSync(keyPath),
    cert: readFileSync(certPath),
    ca: readFileSync(caPath),
    requestCert: true,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
    ciphers,
    honorCipherOrder: true,
  };
}
