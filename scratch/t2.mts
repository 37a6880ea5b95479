import { connect, createServer } from 'node:tls';
import { issueCa, issueBrokerCert } from '../broker/pki.ts';
const ca = await issueCa('x');
const b = await issueBrokerCert(ca, ['broker.other.example']);
const srv = createServer({ key: b.keyPem, cert: b.certPem }, (s) => s.destroy());
await new Promise((r) => srv.listen(0, '127.0.0.1', r));
const s = connect({ host: '127.0.0.1', port: srv.address().port, ca: ca.certPem, rejectUnauthorized: true });
s.on('error', (e) => console.log('error', e.code, e.message));
s.on('secureConnect', () => console.log('secure', s.authorized, s.authorizationError));
s.on('close', () => {
  console.log('close');
  srv.close();
});
