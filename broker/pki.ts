// Development PKI: one ECDSA P-256 CA that signs the broker's server certificate and gateway client certificates.
// Nothing here is meant for production key custody: keys are written to <dataDir>/tls with mode 0600 and never
// belong in the repository. A gateway's identity lives in its SAN URI, urn:vitalwire:gateway:<site>:<gateway>.
import 'reflect-metadata'; // @peculiar/x509 -> tsyringe needs the Reflect polyfill loaded first
import * as x509 from '@peculiar/x509';
import { X509Certificate as NodeX509, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { chmod, mkdir, readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';
import type { PeerCertificate } from 'node:tls';
import { writeAtomic } from '../lib/atomic-file.js';
import { VitalwireError } from '../lib/errors.js';
import { isValidSegment } from '../lib/topics.js';

export interface DevPkiFiles {
  dir: string;
  caCert: string;
  caKey: string;
  brokerCert: string;
  brokerKey: string;
  gatewayCert: string;
  gatewayKey: string;
}

export const GATEWAY_URI_PREFIX = 'urn:vitalwire:gateway:';

const CA_DAYS = 3650;
const LEAF_DAYS = 825; // the CA/Browser Forum ceiling that macOS and iOS still enforce for TLS server certificates
const BACKDATE_MS = 5 * 60_000; // tolerate small clock skew between the machine that issues and the one that checks
const DAY_MS = 86_400_000;
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
// Node's webcrypto is the DOM Crypto at runtime; @types/node types it separately.
const crypto = webcrypto as unknown as Crypto;

export interface Issued {
  certPem: string;
  keyPem: string;
}

/** A 16-byte positive serial (RFC 5280 4.1.2.2: positive, at most 20 octets), random so reissues never collide. */
function randomSerial(): string {
  const b = randomBytes(16);
  b[0] = ((b[0] ?? 0) & 0x7f) | 0x40;
  return b.toString('hex');
}

async function newKeyPair(): Promise<CryptoKeyPair> {
  return crypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
}

async function exportKeyPem(key: CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function importCa(ca: Issued): Promise<{ cert: x509.X509Certificate; key: CryptoKey }> {
  const cert = new x509.X509Certificate(ca.certPem);
  const key = await crypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(ca.keyPem), ALG, false, ['sign']);
  return { cert, key };
}

export interface Validity {
  notBefore: Date;
  notAfter: Date;
}

function validity(days: number): Validity {
  const now = Date.now();
  return { notBefore: new Date(now - BACKDATE_MS), notAfter: new Date(now + days * DAY_MS) };
}

export async function issueCa(commonName = 'vitalwire development CA'): Promise<Issued> {
  const keys = await newKeyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: randomSerial(),
      name: [{ CN: [commonName] }, { O: ['vitalwire'] }],
      keys,
      signingAlgorithm: ALG,
      ...validity(CA_DAYS),
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, crypto),
      ],
    },
    crypto,
  );
  return { certPem: cert.toString('pem'), keyPem: await exportKeyPem(keys.privateKey) };
}

async function issueLeaf(
  ca: Issued,
  subject: x509.JsonName,
  names: x509.JsonGeneralNames,
  usage: x509.ExtendedKeyUsage,
  days: number | Validity,
): Promise<Issued> {
  const keys = await newKeyPair();
  const certPem = await signLeaf(ca, keys.publicKey, subject, names, usage, days);
  return { certPem, keyPem: await exportKeyPem(keys.privateKey) };
}

/** A leaf certificate for `publicKey`, signed by the CA: the subject and names are the CA's choice, never a request's. */
async function signLeaf(
  ca: Issued,
  publicKey: CryptoKey,
  subject: x509.JsonName,
  names: x509.JsonGeneralNames,
  usage: x509.ExtendedKeyUsage,
  days: number | Validity,
): Promise<string> {
  const { cert: caCert, key: caKey } = await importCa(ca);
  const cert = await x509.X509CertificateGenerator.create(
    {
      serialNumber: randomSerial(),
      subject,
      issuer: caCert.subjectName,
      publicKey,
      signingKey: caKey,
      signingAlgorithm: ALG,
      ...(typeof days === 'number' ? validity(days) : days),
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([usage], false),
        new x509.SubjectAlternativeNameExtension(names, false),
        await x509.SubjectKeyIdentifierExtension.create(publicKey, false, crypto),
        await x509.AuthorityKeyIdentifierExtension.create(caCert, false, crypto),
      ],
    },
    crypto,
  );
  return cert.toString('pem');
}

function brokerNames(hosts: readonly string[]): x509.JsonGeneralNames {
  const all = ['localhost', '127.0.0.1', '::1', ...hosts];
  const seen = new Set<string>();
  const out: x509.JsonGeneralNames = [];
  for (const h of all) {
    const key = isIP(h) ? `ip:${normalizeIp(h)}` : `dns:${h.toLowerCase()}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ type: isIP(h) ? 'ip' : 'dns', value: h });
  }
  return out;
}

export async function issueBrokerCert(ca: Issued, hosts: readonly string[]): Promise<Issued> {
  return issueLeaf(
    ca,
    [{ CN: ['vitalwire broker'] }, { O: ['vitalwire'] }],
    brokerNames(hosts),
    x509.ExtendedKeyUsage.serverAuth,
    LEAF_DAYS,
  );
}

function gatewaySegment(s: string): boolean {
  // ':' is a legal topic-segment character but would make the URN ambiguous (site 'a:b' + gw 'c' vs 'a' + 'b:c').
  return isValidSegment(s) && !s.includes(':');
}

export async function issueGatewayCert(
  ca: { certPem: string; keyPem: string },
  site: string,
  gateway: string,
  /** Lifetime in days from now, or an explicit window (tests issue already-expired certificates with it). */
  days: number | Validity = LEAF_DAYS,
): Promise<{ certPem: string; keyPem: string }> {
  checkGatewayIdentity(site, gateway);
  if (typeof days === 'number' ? !Number.isFinite(days) || days <= 0 : !(days.notAfter > days.notBefore)) {
    throw new VitalwireError(
      'VW_ERR_CONFIG',
      `certificate lifetime ${typeof days === 'number' ? `${days} days` : 'window is empty'}`,
    );
  }
  return issueLeaf(
    ca,
    [{ CN: [gateway] }, { O: [site] }],
    [{ type: 'url', value: `${GATEWAY_URI_PREFIX}${site}:${gateway}` }],
    x509.ExtendedKeyUsage.clientAuth,
    days,
  );
}

function checkGatewayIdentity(site: string, gateway: string): void {
  if (!gatewaySegment(site) || !gatewaySegment(gateway)) {
    throw new VitalwireError(
      'VW_ERR_CONFIG',
      `gateway identity ${JSON.stringify(`${site}/${gateway}`)} is not a valid site/gateway pair (no ':' allowed)`,
    );
  }
}

/**
 * A gateway's own key and a PKCS #10 certificate request for it (`vitalwire gateway init`, on the gateway): the key
 * never leaves the gateway; only the request travels to the centre. The request names the identity the gateway asks
 * for; the CA decides what it signs (signGatewayRequest).
 */
export async function makeGatewayRequest(site: string, gateway: string): Promise<{ csrPem: string; keyPem: string }> {
  checkGatewayIdentity(site, gateway);
  const keys = await newKeyPair();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create(
    {
      name: [{ CN: [gateway] }, { O: [site] }],
      keys,
      signingAlgorithm: ALG,
      extensions: [
        new x509.SubjectAlternativeNameExtension(
          [{ type: 'url', value: `${GATEWAY_URI_PREFIX}${site}:${gateway}` }],
          false,
        ),
      ],
    },
    crypto,
  );
  return { csrPem: csr.toString('pem'), keyPem: await exportKeyPem(keys.privateKey) };
}

/**
 * Signs a gateway's certificate request for site/gateway (`vitalwire gateways sign`, at the centre). The request must
 * be well formed, signed by the key it carries (proof of possession), use the key type the site uses, and ask for
 * exactly this identity; the certificate then carries only what the CA puts in it (subject, SAN URI, client-auth use),
 * never extensions copied from the request.
 */
export async function signGatewayRequest(
  ca: Issued,
  csrPem: string,
  site: string,
  gateway: string,
  days: number | Validity = LEAF_DAYS,
): Promise<string> {
  checkGatewayIdentity(site, gateway);
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch {
    throw new VitalwireError('VW_ERR_PROVISION', 'the certificate request is not a PEM PKCS #10 request');
  }
  if (!(await csr.verify(crypto)))
    throw new VitalwireError('VW_ERR_PROVISION', 'the certificate request is not signed by the key it carries');
  const alg = csr.publicKey.algorithm as EcKeyAlgorithm;
  if (alg.name !== 'ECDSA' || alg.namedCurve !== ALG.namedCurve) {
    throw new VitalwireError(
      'VW_ERR_PROVISION',
      `the request's key is ${alg.name}${alg.namedCurve ? ` ${alg.namedCurve}` : ''}; gateways use ECDSA P-256`,
    );
  }
  // The request's extensions are plain here; the SAN is read by its OID (2.5.29.17) and parsed as one.
  const sanRaw = csr.getExtension('2.5.29.17');
  const names = sanRaw ? new x509.SubjectAlternativeNameExtension(sanRaw.rawData).names.items : [];
  const asked = names.filter((n) => n.type === 'url' && n.value.startsWith(GATEWAY_URI_PREFIX)).map((n) => n.value);
  const want = `${GATEWAY_URI_PREFIX}${site}:${gateway}`;
  if (asked.length !== 1 || asked[0] !== want) {
    throw new VitalwireError(
      'VW_ERR_PROVISION',
      `the request asks for ${asked.length === 0 ? 'no gateway identity' : asked.join(', ')}, not ${site}/${gateway}`,
    );
  }
  const publicKey = await csr.publicKey.export(ALG, ['verify'], crypto);
  return signLeaf(
    ca,
    publicKey,
    [{ CN: [gateway] }, { O: [site] }],
    [{ type: 'url', value: want }],
    x509.ExtendedKeyUsage.clientAuth,
    days,
  );
}

/**
 * The gateway identity named by a certificate's SAN URI, or null when it has none, more than one, or a malformed one.
 * This does not check the signature chain: callers must only trust it for a certificate the TLS layer verified
 * (`socket.authorized`).
 */
export function gatewayIdentityFromCert(cert: PeerCertificate | NodeX509): { site: string; gateway: string } | null {
  const raw: unknown = (cert as { raw?: unknown }).raw;
  if (!(raw instanceof Uint8Array) || raw.length === 0) return null; // no certificate presented: Node gives {}
  let uris: string[];
  try {
    const san = new x509.X509Certificate(new Uint8Array(raw)).getExtension(x509.SubjectAlternativeNameExtension);
    if (!san) return null;
    uris = san.names.items
      .filter((n) => n.type === 'url' && n.value.startsWith(GATEWAY_URI_PREFIX))
      .map((n) => n.value);
  } catch {
    return null;
  }
  if (uris.length !== 1) return null;
  const rest = (uris[0] ?? '').slice(GATEWAY_URI_PREFIX.length).split(':');
  if (rest.length !== 2) return null;
  const [site, gateway] = rest as [string, string];
  if (!gatewaySegment(site) || !gatewaySegment(gateway)) return null;
  return { site, gateway };
}

/**
 * A certificate serial as one canonical string: upper-case hex without separators or leading zeros. Node prints
 * serials upper-case (`getPeerCertificate().serialNumber`); the revocation list compares in this form.
 */
export function canonicalSerial(serial: string): string {
  const hex = serial
    .replace(/[:\s]/g, '')
    .toUpperCase()
    .replace(/^0+(?=.)/, '');
  if (!/^[0-9A-F]{1,40}$/.test(hex))
    throw new VitalwireError('VW_ERR_CONFIG', `certificate serial ${JSON.stringify(serial)}`);
  return hex;
}

// ---------------------------------------------------------------------------------------------------------------
// Files

function normalizeIp(ip: string): string {
  return isIP(ip) === 6 ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : ip;
}

export async function readPair(certPath: string, keyPath: string): Promise<Issued | null> {
  try {
    const [certPem, keyPem] = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]);
    return { certPem, keyPem };
  } catch {
    return null;
  }
}

/** Current, signed by `ca` (or self-signed when ca is omitted), and matching its private key. */
export function pairIsUsable(pair: Issued, ca?: NodeX509): NodeX509 | null {
  try {
    const cert = new NodeX509(pair.certPem);
    const now = Date.now();
    if (now < Date.parse(cert.validFrom) || now >= Date.parse(cert.validTo)) return null;
    if (!cert.checkPrivateKey(createPrivateKey(pair.keyPem))) return null;
    const issuer = ca ?? cert;
    if (!cert.checkIssued(issuer) || !cert.verify(issuer.publicKey)) return null;
    if (!ca && !cert.ca) return null;
    return cert;
  } catch {
    return null;
  }
}

function coversHosts(cert: NodeX509, hosts: readonly string[]): boolean {
  let names: readonly x509.GeneralName[];
  try {
    names = new x509.X509Certificate(cert.raw).getExtension(x509.SubjectAlternativeNameExtension)?.names.items ?? [];
  } catch {
    return false;
  }
  const have = new Set(
    names.map((n) => (n.type === 'ip' ? `ip:${normalizeIp(n.value)}` : `${n.type}:${n.value.toLowerCase()}`)),
  );
  return brokerNames(hosts).every((n) =>
    have.has(n.type === 'ip' ? `ip:${normalizeIp(n.value)}` : `dns:${n.value.toLowerCase()}`),
  );
}

/** Write via a fresh temporary file and rename, so a crash never leaves a half-written key or a key with loose mode. */
export async function writePair(certPath: string, keyPath: string, pair: Issued): Promise<void> {
  await writeAtomic(keyPath, pair.keyPem, 0o600);
  await writeAtomic(certPath, pair.certPem, 0o644);
}

/**
 * Create, or reuse, the development PKI under <dataDir>/tls. Certificates that are missing, expired, not issued by
 * the CA, not matching their key, or (broker) not covering the requested hosts or (gateway) naming another identity
 * are reissued; the CA itself is kept whenever it is valid, so already-issued gateway certificates stay good.
 */
export async function ensureDevPki(
  dataDir: string,
  opts: { site: string; gateway: string; hosts?: string[] },
): Promise<DevPkiFiles & { created: boolean }> {
  const dir = join(resolve(dataDir), 'tls');
  const files: DevPkiFiles = {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    brokerCert: join(dir, 'broker.crt'),
    brokerKey: join(dir, 'broker.key'),
    gatewayCert: join(dir, 'gateway.crt'),
    gatewayKey: join(dir, 'gateway.key'),
  };
  const hosts = opts.hosts ?? [];
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);

  let created = false;
  let ca = await readPair(files.caCert, files.caKey);
  let caCert = ca ? pairIsUsable(ca) : null;
  if (!ca || !caCert) {
    ca = await issueCa();
    caCert = new NodeX509(ca.certPem);
    await writePair(files.caCert, files.caKey, ca);
    created = true;
  }

  const broker = await readPair(files.brokerCert, files.brokerKey);
  const brokerCert = broker ? pairIsUsable(broker, caCert) : null;
  if (!brokerCert || !coversHosts(brokerCert, hosts)) {
    await writePair(files.brokerCert, files.brokerKey, await issueBrokerCert(ca, hosts));
    created = true;
  }

  const gw = await readPair(files.gatewayCert, files.gatewayKey);
  const gwCert = gw ? pairIsUsable(gw, caCert) : null;
  const id = gwCert ? gatewayIdentityFromCert(gwCert) : null;
  if (!id || id.site !== opts.site || id.gateway !== opts.gateway) {
    await writePair(files.gatewayCert, files.gatewayKey, await issueGatewayCert(ca, opts.site, opts.gateway));
    created = true;
  }
  return { ...files, created };
}
