import mqtt from 'mqtt';
import { createServer } from 'node:tls';
import { issueCa, issueBrokerCert } from '../broker/pki.ts';
const ca = await issueCa('x');
const b = await issueBrokerCert(ca, ['broker.other.example']);
const srv = createServer({ key: b.keyPem, cert: b.certPem }, (s) => s.destroy());
await new Promise((r) => srv.listen(0, '127.0.0.1', r));
const c = mqtt.connect(`mqtts://127.0.0.1:${srv.address().port}`, {
  ca: ca.certPem,
  reconnectPeriod: 0,
  rejectUnauthorized: true,
});
c.on('error', (e) => console.log('error', e.code, e.message));
c.on('close', () => {
  console.log('close', c.stream && 'stream');
  srv.close();
});
setTimeout(() => process.exit(0), 2000);
