import { X509Certificate, createPrivateKey } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDevPki, gatewayIdentityFromCert, issueGatewayCert, type DevPkiFiles } from './pki.js';

const dirs: string[] = [];
async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'vw-pki-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** OpenSSL as the peer verifier: exit status 0 and "OK" only when the chain and the purpose check out. */
function opensslVerify(caFile: string, certFile: string, purpose: 'sslserver' | 'sslclient'): boolean {
  try {
    return execFileSync('openssl', ['verify', '-purpose', purpose, '-CAfile', caFile, certFile], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).includes(': OK');
  } catch {
    return false;
  }
}

const read = (p: string): Promise<string> => readFile(p, 'utf8');

describe('ensureDevPki', () => {
  let dataDir: string;
  let pki: DevPkiFiles & { created: boolean };

  beforeAll(async () => {
    dataDir = await tmp();
    pki = await ensureDevPki(dataDir, { site: 'site1', gateway: 'gw1', hosts: ['broker.example.org', '10.1.2.3'] });
  });

  it('writes all six files under <dataDir>/tls, keys 0600 and the directory 0700', async () => {
    expect(pki.created).toBe(true);
    expect(pki.dir).toBe(join(dataDir, 'tls'));
    expect((await stat(pki.dir)).mode & 0o777).toBe(0o700);
    for (const key of [pki.caKey, pki.brokerKey, pki.gatewayKey]) {
      expect((await stat(key)).mode & 0o777).toBe(0o600);
      expect(createPrivateKey(await read(key)).asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    }
    for (const crt of [pki.caCert, pki.brokerCert, pki.gatewayCert]) {
      expect(new X509Certificate(await read(crt)).publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    }
  });

  it('makes a CA that signs a broker server cert and a gateway client cert', async () => {
    const ca = new X509Certificate(await read(pki.caCert));
    const broker = new X509Certificate(await read(pki.brokerCert));
    const gw = new X509Certificate(await read(pki.gatewayCert));
    expect(ca.ca).toBe(true);
    expect(Date.parse(ca.validTo) - Date.now()).toBeGreaterThan(9.9 * 365 * 86_400_000);
    expect(broker.ca).toBe(false);
    expect(broker.verify(ca.publicKey)).toBe(true);
    expect(gw.verify(ca.publicKey)).toBe(true);
    expect(broker.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // Node names EKU OIDs keyUsage: serverAuth
    expect(gw.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']); // clientAuth
    expect(broker.checkHost('localhost')).toBe('localhost');
    expect(broker.checkHost('broker.example.org')).toBe('broker.example.org');
    expect(broker.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(broker.checkIP('::1')).toBe('::1');
    expect(broker.checkIP('10.1.2.3')).toBe('10.1.2.3');
    expect(broker.checkIP('10.1.2.4')).toBeUndefined();
    expect(gw.subject).toContain('CN=gw1');
    expect(gw.subject).toContain('O=site1');
    expect(gw.subjectAltName).toBe('URI:urn:vitalwire:gateway:site1:gw1');
    expect(broker.serialNumber).not.toBe(gw.serialNumber);
  });

  it.skipIf(!hasOpenssl)(
    `passes openssl verify with the right purpose, and only that purpose${hasOpenssl ? '' : ' (skipped: no openssl binary)'}`,
    () => {
      expect(opensslVerify(pki.caCert, pki.brokerCert, 'sslserver')).toBe(true);
      expect(opensslVerify(pki.caCert, pki.gatewayCert, 'sslclient')).toBe(true);
      expect(opensslVerify(pki.caCert, pki.gatewayCert, 'sslserver')).toBe(false);
    },
  );

  it('reuses valid files on the second call', async () => {
    const before = await Promise.all([pki.caKey, pki.brokerCert, pki.gatewayKey].map(read));
    const again = await ensureDevPki(dataDir, {
      site: 'site1',
      gateway: 'gw1',
      hosts: ['broker.example.org', '10.1.2.3'],
    });
    expect(again.created).toBe(false);
    expect(await Promise.all([again.caKey, again.brokerCert, again.gatewayKey].map(read))).toEqual(before);
  });

  it('reissues the broker cert when a new host is asked for, keeping the CA', async () => {
    const caBefore = await read(pki.caCert);
    const again = await ensureDevPki(dataDir, {
      site: 'site1',
      gateway: 'gw1',
      hosts: ['broker.example.org', '10.1.2.3', 'other.example'],
    });
    expect(again.created).toBe(true);
    expect(await read(again.caCert)).toBe(caBefore);
    expect(new X509Certificate(await read(again.brokerCert)).checkHost('other.example')).toBe('other.example');
  });

  it('replaces a leaf signed by another CA and a gateway cert that expired', async () => {
    const other = await ensureDevPki(await tmp(), { site: 'site1', gateway: 'gw1' });
    const foreignBroker = await read(other.brokerCert);
    const ca = new X509Certificate(await read(pki.caCert));
    expect(new X509Certificate(foreignBroker).verify(ca.publicKey)).toBe(false);
    expect(new X509Certificate(foreignBroker).checkIssued(ca)).toBe(false);
    if (hasOpenssl) expect(opensslVerify(pki.caCert, other.brokerCert, 'sslserver')).toBe(false);

    await writeFile(pki.brokerCert, foreignBroker);
    await writeFile(pki.brokerKey, await read(other.brokerKey));
    const shortLived = await issueGatewayCert(
      { certPem: await read(pki.caCert), keyPem: await read(pki.caKey) },
      'site1',
      'gw1',
      0.1 / 86_400,
    );
    await writeFile(pki.gatewayCert, shortLived.certPem);
    await writeFile(pki.gatewayKey, shortLived.keyPem);
    await new Promise((r) => setTimeout(r, 150)); // 100 ms lifetime
    expect(Date.parse(new X509Certificate(shortLived.certPem).validTo)).toBeLessThanOrEqual(Date.now());

    const again = await ensureDevPki(dataDir, {
      site: 'site1',
      gateway: 'gw1',
      hosts: ['broker.example.org', '10.1.2.3', 'other.example'],
    });
    expect(again.created).toBe(true);
    expect(new X509Certificate(await read(again.brokerCert)).verify(ca.publicKey)).toBe(true);
    const gw = new X509Certificate(await read(again.gatewayCert));
    expect(gw.verify(ca.publicKey)).toBe(true);
    expect(Date.parse(gw.validTo)).toBeGreaterThan(Date.now() + 800 * 86_400_000);
    expect((await stat(again.brokerKey)).mode & 0o777).toBe(0o600);
  });

  it('reissues the gateway cert when the configured identity changes', async () => {
    const again = await ensureDevPki(dataDir, {
      site: 'site1',
      gateway: 'gw9',
      hosts: ['broker.example.org', '10.1.2.3', 'other.example'],
    });
    expect(again.created).toBe(true);
    expect(gatewayIdentityFromCert(new X509Certificate(await read(again.gatewayCert)))).toEqual({
      site: 'site1',
      gateway: 'gw9',
    });
  });
});

describe('gateway certificates', () => {
  let ca: { certPem: string; keyPem: string };
  let brokerPem: string;
  beforeAll(async () => {
    const p = await ensureDevPki(await tmp(), { site: 's', gateway: 'g' });
    ca = { certPem: await read(p.caCert), keyPem: await read(p.caKey) };
    brokerPem = await read(p.brokerCert);
  });

  it('reads the identity from the SAN URI, not from the subject', async () => {
    const { certPem } = await issueGatewayCert(ca, 'ward-7.north', 'bed_12');
    const cert = new X509Certificate(certPem);
    expect(cert.subjectAltName).toBe('URI:urn:vitalwire:gateway:ward-7.north:bed_12');
    expect(gatewayIdentityFromCert(cert)).toEqual({ site: 'ward-7.north', gateway: 'bed_12' });
    expect(cert.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
  });

  it('finds no identity in a cert without a gateway URI, or in an empty peer certificate', () => {
    expect(gatewayIdentityFromCert(new X509Certificate(brokerPem))).toBeNull();
    expect(gatewayIdentityFromCert({} as import('node:tls').PeerCertificate)).toBeNull();
  });

  it('refuses identities that would widen a topic or make the URN ambiguous', async () => {
    for (const [site, gw] of [
      ['a:b', 'c'],
      ['a', 'b:c'],
      ['a/b', 'c'],
      ['#', 'c'],
      ['a', '+'],
      ['', 'c'],
      ['a', 'x'.repeat(65)],
    ] as const) {
      await expect(issueGatewayCert(ca, site, gw)).rejects.toMatchObject({ code: 'VW_ERR_CONFIG' });
    }
    await expect(issueGatewayCert(ca, 's', 'g', 0)).rejects.toMatchObject({ code: 'VW_ERR_CONFIG' });
  });

  it('gives every certificate a fresh random serial', async () => {
    const serials = new Set<string>();
    for (let i = 0; i < 4; i++)
      serials.add(new X509Certificate((await issueGatewayCert(ca, 's', 'g')).certPem).serialNumber);
    expect(serials.size).toBe(4);
  });
});
