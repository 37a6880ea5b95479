// Site provisioning on disk, behind `vitalwire ca init`, `vitalwire gateways add|revoke|list`. One PKI directory
// per site CA:
//
//   <pki>/ca.crt  ca.key (0600)        the site CA
//   <pki>/broker.crt  broker.key (0600) the broker's TLS server certificate
//   <pki>/issued.json                   every gateway certificate issued: serial, identity, expiry
//   <pki>/revocation/revoked.json       the revocation list the broker reads (tls.revocationList): in a directory of
//                                       its own, so a container can mount it (and see each atomic rewrite) without
//                                       mounting the CA's key
//
// The gateway makes its own key (`vitalwire gateway init`: key 0600, a certificate request, a config stub) and the
// centre signs the request (`vitalwire gateways sign`): the private key never leaves the gateway (docs/security.md).
// `gateways add` (a key made at the centre, in a bundle copied to the gateway) remains for labs and demos.
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { access, chmod, copyFile, mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { z } from 'zod';
import { VitalwireError } from '../lib/errors.js';
import { readValidatedFile } from '../lib/config.js';
import {
  canonicalSerial,
  issueBrokerCert,
  issueCa,
  issueGatewayCert,
  makeGatewayRequest,
  pairIsUsable,
  readPair,
  signGatewayRequest,
  writePair,
} from './pki.js';
import { writeAtomic } from '../lib/atomic-file.js';
import { readRevocationFile, writeRevocationFile, type RevokedEntry } from './revocation.js';

export interface PkiPaths {
  dir: string;
  caCert: string;
  caKey: string;
  brokerCert: string;
  brokerKey: string;
  issued: string;
  revoked: string;
}

export function pkiPaths(dir: string): PkiPaths {
  // A PKI made before the list had its own directory keeps it where it is.
  const legacy = join(dir, 'revoked.json');
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    brokerCert: join(dir, 'broker.crt'),
    brokerKey: join(dir, 'broker.key'),
    issued: join(dir, 'issued.json'),
    revoked: existsSync(legacy) ? legacy : join(dir, 'revocation', 'revoked.json'),
  };
}

const issuedEntry = z.strictObject({
  serial: z.string(),
  site: z.string(),
  gateway: z.string(),
  notAfter: z.string(),
  issuedAt: z.string(),
});
const issuedFile = z.strictObject({ issued: z.array(issuedEntry).default([]) });
export type IssuedEntry = z.output<typeof issuedEntry>;

async function exists(p: string): Promise<boolean> {
  return access(p).then(
    () => true,
    () => false,
  );
}

async function readIssued(path: string): Promise<IssuedEntry[]> {
  const f = await readValidatedFile(issuedFile, path, {
    what: 'issued-certificates list',
    format: 'json',
    missingOk: true,
  });
  return f ? f.issued.map((e) => ({ ...e })) : [];
}

async function writeIssued(path: string, entries: readonly IssuedEntry[]): Promise<void> {
  await writeAtomic(path, `${JSON.stringify({ issued: entries }, null, 2)}\n`, 0o644);
}

/** Creates a site CA and the broker's server certificate. Refuses to replace an existing CA. */
export async function caInit(dir: string, o: { hosts: readonly string[]; name?: string }): Promise<PkiPaths> {
  const p = pkiPaths(dir);
  if ((await exists(p.caCert)) || (await exists(p.caKey))) {
    throw new VitalwireError(
      'VW_ERR_PROVISION',
      `${p.caCert} already exists: a new CA would orphan every gateway certificate it issued`,
    );
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const ca = await issueCa(o.name ?? 'vitalwire site CA');
  await writePair(p.caCert, p.caKey, ca);
  await writePair(p.brokerCert, p.brokerKey, await issueBrokerCert(ca, o.hosts));
  await writeIssued(p.issued, []);
  await mkdir(dirname(p.revoked), { recursive: true, mode: 0o755 });
  await writeRevocationFile(p.revoked, []);
  return p;
}

async function loadCa(p: PkiPaths): Promise<{ certPem: string; keyPem: string }> {
  const ca = await readPair(p.caCert, p.caKey);
  if (!ca || !pairIsUsable(ca))
    throw new VitalwireError('VW_ERR_PROVISION', `no usable CA in ${p.dir} (run 'vitalwire ca init')`);
  return ca;
}

export interface GatewayBundle {
  dir: string;
  caCert: string;
  cert: string;
  key: string;
  config: string;
  serial: string;
  notAfter: string;
}

/** The gateway config a bundle or `gateway init` starts from: complete but for the devices, which the engineer adds. */
export function gatewayConfigStub(site: string, gateway: string, brokerUrl: string, writtenBy: string): string {
  const stub = {
    site,
    gateway,
    broker: brokerUrl,
    tls: { ca: 'ca.crt', cert: 'gateway.crt', key: 'gateway.key' },
    dataDir: '/var/lib/vitalwire/gateway',
    devices: [],
  };
  return (
    `# vitalwire gateway ${site}/${gateway}: written by '${writtenBy}'. Paths are relative to this file; gateway.key is this\n` +
    `# gateway's identity: keep it here, never copy it elsewhere. dataDir holds the durable outbox (one gateway per directory).\n` +
    `# Add the devices, then check: vitalwire gateway --config gateway.yaml --check-config (every key: docs/gateway.md).\n` +
    `${toYaml(stub).replace('devices: []\n', `devices:\n  # - id: bed01\n  #   protocol: hl7          # vitalwire gateway probe --device /dev/ttyUSB0 says which\n  #   bed: "ICU 1"\n  #   transport: { kind: serial, path: /dev/ttyUSB0, baudRate: 9600 }\n`)}`
  );
}

/** Copies an edited file aside before it is replaced, so nothing an engineer wrote is lost; returns the copy's path. */
async function backUp(path: string): Promise<string | null> {
  if (!(await exists(path))) return null;
  const copy = `${path}.bak-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  await copyFile(path, copy);
  return copy;
}

async function record(p: PkiPaths, certPem: string, site: string, gateway: string): Promise<IssuedEntry> {
  const x = new X509Certificate(certPem);
  const entry = {
    serial: canonicalSerial(x.serialNumber),
    site,
    gateway,
    notAfter: new Date(x.validTo).toISOString(),
    issuedAt: new Date().toISOString(),
  };
  const entries = await readIssued(p.issued);
  entries.push(entry);
  await writeIssued(p.issued, entries);
  return entry;
}

/** Revokes every certificate of site/gateway except `keep`: a re-issued identity never has two valid certificates. */
async function revokePrevious(p: PkiPaths, site: string, gateway: string, keep: string): Promise<string[]> {
  const issued = (await readIssued(p.issued)).filter(
    (e) => e.site === site && e.gateway === gateway && e.serial !== keep,
  );
  if (issued.length === 0) return [];
  const revoked = await readRevocationFile(p.revoked, true);
  const already = new Set(revoked.map((e) => canonicalSerial(e.serial)));
  const now = new Date().toISOString();
  const added: RevokedEntry[] = issued
    .filter((e) => !already.has(e.serial))
    .map((e) => ({
      serial: e.serial,
      identity: `${site}/${gateway}`,
      revokedAt: now,
      reason: `superseded by ${keep}`,
    }));
  if (added.length > 0) await writeRevocationFile(p.revoked, [...revoked, ...added]);
  return added.map((e) => e.serial);
}

/** Issues a gateway certificate into a bundle directory and records it in issued.json (labs and demos: see sign). */
export async function addGateway(
  pkiDir: string,
  site: string,
  gateway: string,
  o: {
    outDir: string;
    brokerUrl: string;
    days?: number;
    force?: boolean;
  },
): Promise<GatewayBundle & { revoked: string[]; backup: string | null }> {
  const p = pkiPaths(pkiDir);
  const ca = await loadCa(p);
  const dir = join(o.outDir, site, gateway);
  const b = {
    dir,
    caCert: join(dir, 'ca.crt'),
    cert: join(dir, 'gateway.crt'),
    key: join(dir, 'gateway.key'),
    config: join(dir, 'gateway.yaml'),
  };
  if (!o.force && ((await exists(b.cert)) || (await exists(b.key)))) {
    throw new VitalwireError(
      'VW_ERR_PROVISION',
      `${dir} already holds a certificate (use --force to issue a new one: the old one is revoked and gateway.yaml kept as a backup)`,
    );
  }
  const issued = await issueGatewayCert(ca, site, gateway, o.days);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  await writePair(b.cert, b.key, issued);
  await writeAtomic(b.caCert, ca.certPem, 0o644);
  const backup = await backUp(b.config);
  await writeAtomic(b.config, gatewayConfigStub(site, gateway, o.brokerUrl, 'vitalwire gateways add'), 0o644);
  const entry = await record(p, issued.certPem, site, gateway);
  const revoked = await revokePrevious(p, site, gateway, entry.serial);
  return { ...b, serial: entry.serial, notAfter: entry.notAfter, revoked, backup };
}

export interface GatewayInit {
  dir: string;
  key: string;
  csr: string;
  config: string;
  backup: string | null;
}

/**
 * On the gateway: its own key (0600), a certificate request for site/gateway to send to the centre, and a config stub.
 * An existing key is never replaced without `force` (its certificate would stop matching); an existing config is kept
 * as it is, or, with `force`, copied aside first.
 */
export async function initGateway(
  dir: string,
  site: string,
  gateway: string,
  o: { brokerUrl: string; force?: boolean },
): Promise<GatewayInit> {
  const f = { dir, key: join(dir, 'gateway.key'), csr: join(dir, 'gateway.csr'), config: join(dir, 'gateway.yaml') };
  if (!o.force && (await exists(f.key))) {
    throw new VitalwireError(
      'VW_ERR_PROVISION',
      `${f.key} already exists: this gateway has a key (use --force to make a new one; its certificate must then be signed again)`,
    );
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const req = await makeGatewayRequest(site, gateway);
  await writeAtomic(f.key, req.keyPem, 0o600);
  await writeAtomic(f.csr, req.csrPem, 0o644);
  let backup: string | null = null;
  if (!(await exists(f.config)) || o.force) {
    backup = await backUp(f.config);
    await writeAtomic(f.config, gatewayConfigStub(site, gateway, o.brokerUrl, 'vitalwire gateway init'), 0o644);
  }
  return { ...f, backup };
}

/** At the centre: signs a gateway's request; the new certificate supersedes (revokes) any earlier one of that gateway. */
export async function signGateway(
  pkiDir: string,
  site: string,
  gateway: string,
  o: { csrPem: string; outDir: string; days?: number },
): Promise<{
  cert: string;
  caCert: string;
  serial: string;
  notAfter: string;
  revoked: string[];
}> {
  const p = pkiPaths(pkiDir);
  const ca = await loadCa(p);
  const certPem = await signGatewayRequest(ca, o.csrPem, site, gateway, o.days);
  await mkdir(o.outDir, { recursive: true, mode: 0o700 });
  const cert = join(o.outDir, 'gateway.crt');
  const caCert = join(o.outDir, 'ca.crt');
  await writeAtomic(cert, certPem, 0o644);
  await writeAtomic(caCert, ca.certPem, 0o644);
  const entry = await record(p, certPem, site, gateway);
  const revoked = await revokePrevious(p, site, gateway, entry.serial);
  return { cert, caCert, serial: entry.serial, notAfter: entry.notAfter, revoked };
}

/** Reads a certificate request file, bounded (a request is a few hundred bytes). */
export async function readRequest(path: string): Promise<string> {
  const text = await readFile(path, 'utf8');
  if (text.length > 16 * 1024)
    throw new VitalwireError('VW_ERR_PROVISION', `${path} is not a certificate request (too large)`);
  return text;
}

/**
 * Revokes one certificate of site/gateway (`serial`), or every one (`all`): one of the two must be said, so an
 * operator who meant the old certificate never cuts off the gateway's current one. Returns the serials newly revoked.
 */
export async function revokeGateway(
  pkiDir: string,
  site: string,
  gateway: string,
  o: { serial?: string; all?: boolean; reason?: string } = {},
): Promise<string[]> {
  if ((o.serial === undefined) === (o.all !== true)) {
    throw new VitalwireError(
      'VW_ERR_USAGE',
      'give the certificate to revoke (--serial HEX, see `gateways list`) or --all for every certificate of the gateway',
    );
  }
  const p = pkiPaths(pkiDir);
  const issued = (await readIssued(p.issued)).filter((e) => e.site === site && e.gateway === gateway);
  const wanted = o.all ? issued : issued.filter((e) => e.serial === canonicalSerial(o.serial ?? ''));
  if (wanted.length === 0) {
    throw new VitalwireError(
      'VW_ERR_PROVISION',
      `no certificate${o.serial ? ` ${o.serial}` : ''} issued to ${site}/${gateway} in ${p.issued}`,
    );
  }
  const revoked = await readRevocationFile(p.revoked, true);
  const already = new Set(revoked.map((e) => canonicalSerial(e.serial)));
  const now = new Date().toISOString();
  const added: RevokedEntry[] = wanted
    .filter((e) => !already.has(e.serial))
    .map((e) => ({
      serial: e.serial,
      identity: `${site}/${gateway}`,
      revokedAt: now,
      ...(o.reason ? { reason: o.reason } : {}),
    }));
  await writeRevocationFile(p.revoked, [...revoked, ...added]);
  return added.map((e) => e.serial);
}

export async function listGateways(pkiDir: string): Promise<(IssuedEntry & { revoked: boolean })[]> {
  const p = pkiPaths(pkiDir);
  const revoked = new Set((await readRevocationFile(p.revoked, true)).map((e) => canonicalSerial(e.serial)));
  return (await readIssued(p.issued)).map((e) => ({ ...e, revoked: revoked.has(e.serial) }));
}
