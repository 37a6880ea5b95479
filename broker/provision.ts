// Site provisioning on disk, behind `vitalwire ca init`, `vitalwire gateways add|revoke|list`. One PKI directory
// per site CA:
//
//   <pki>/ca.crt  ca.key (0600)        the site CA
//   <pki>/broker.crt  broker.key (0600) the broker's TLS server certificate
//   <pki>/issued.json                   every gateway certificate issued: serial, identity, expiry
//   <pki>/revoked.json                  the revocation list the broker reads (tls.revocationList)
//
// A gateway bundle (`gateways add`) is a directory with the CA certificate, the gateway's certificate and key (0600)
// and a config stub; it is what an engineer copies onto the gateway, and the key never needs to leave it again.
import { X509Certificate } from 'node:crypto';
import { access, chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { z } from 'zod';
import { VitalwireError } from '../decoders/errors.js';
import { readValidatedFile } from '../lib/config.js';
import { canonicalSerial, issueBrokerCert, issueCa, issueGatewayCert, pairIsUsable, readPair, writeAtomic, writePair } from './pki.js';
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
  return {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    brokerCert: join(dir, 'broker.crt'),
    brokerKey: join(dir, 'broker.key'),
    issued: join(dir, 'issued.json'),
    revoked: join(dir, 'revoked.json'),
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
  return access(p).then(() => true, () => false);
}

async function readIssued(path: string): Promise<IssuedEntry[]> {
  const f = await readValidatedFile(issuedFile, path, { what: 'issued-certificates list', format: 'json', missingOk: true });
  return f ? f.issued.map((e) => ({ ...e })) : [];
}

async function writeIssued(path: string, entries: readonly IssuedEntry[]): Promise<void> {
  await writeAtomic(path, `${JSON.stringify({ issued: entries }, null, 2)}\n`, 0o644);
}

/** Creates a site CA and the broker's server certificate. Refuses to replace an existing CA. */
export async function caInit(dir: string, o: { hosts: readonly string[]; name?: string }): Promise<PkiPaths> {
  const p = pkiPaths(dir);
  if (await exists(p.caCert) || await exists(p.caKey)) {
    throw new VitalwireError('VW_ERR_PROVISION', `${p.caCert} already exists: a new CA would orphan every gateway certificate it issued`);
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const ca = await issueCa(o.name ?? 'vitalwire site CA');
  await writePair(p.caCert, p.caKey, ca);
  await writePair(p.brokerCert, p.brokerKey, await issueBrokerCert(ca, o.hosts));
  await writeIssued(p.issued, []);
  await writeRevocationFile(p.revoked, []);
  return p;
}

async function loadCa(p: PkiPaths): Promise<{ certPem: string; keyPem: string }> {
  const ca = await readPair(p.caCert, p.caKey);
  if (!ca || !pairIsUsable(ca)) throw new VitalwireError('VW_ERR_PROVISION', `no usable CA in ${p.dir} (run 'vitalwire ca init')`);
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

/** Issues a gateway certificate into a bundle directory and records it in issued.json. */
export async function addGateway(pkiDir: string, site: string, gateway: string, o: {
  outDir: string; brokerUrl: string; days?: number; force?: boolean;
}): Promise<GatewayBundle> {
  const p = pkiPaths(pkiDir);
  const ca = await loadCa(p);
  const dir = join(o.outDir, site, gateway);
  const b = { dir, caCert: join(dir, 'ca.crt'), cert: join(dir, 'gateway.crt'), key: join(dir, 'gateway.key'), config: join(dir, 'gateway.yaml') };
  if (!o.force && (await exists(b.cert) || await exists(b.key))) {
    throw new VitalwireError('VW_ERR_PROVISION', `${dir} already holds a certificate (use --force to issue a new one; revoke the old one)`);
  }
  const issued = await issueGatewayCert(ca, site, gateway, o.days);
  const x = new X509Certificate(issued.certPem);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  await writePair(b.cert, b.key, issued);
  await writeAtomic(b.caCert, ca.certPem, 0o644);
  const stub = {
    site,
    gateway,
    broker: o.brokerUrl,
    tls: { ca: 'ca.crt', cert: 'gateway.crt', key: 'gateway.key' },
    devices: [],
  };
  await writeAtomic(b.config, `# vitalwire gateway ${site}/${gateway}: written by 'vitalwire gateways add'. Add devices, then start\n` +
    `# the gateway with it. Paths are relative to this file. gateway.key is this gateway's identity: keep it here.\n${toYaml(stub)}`, 0o644);
  const entries = await readIssued(p.issued);
  entries.push({ serial: canonicalSerial(x.serialNumber), site, gateway, notAfter: new Date(x.validTo).toISOString(), issuedAt: new Date().toISOString() });
  await writeIssued(p.issued, entries);
  return { ...b, serial: canonicalSerial(x.serialNumber), notAfter: new Date(x.validTo).toISOString() };
}

/** Revokes every certificate issued to site/gateway (or just `serial`). Returns the serials newly revoked. */
export async function revokeGateway(pkiDir: string, site: string, gateway: string, o: { serial?: string; reason?: string } = {}): Promise<string[]> {
  const p = pkiPaths(pkiDir);
  const issued = (await readIssued(p.issued)).filter((e) => e.site === site && e.gateway === gateway);
  const wanted = o.serial === undefined ? issued : issued.filter((e) => e.serial === canonicalSerial(o.serial ?? ''));
  if (wanted.length === 0) {
    throw new VitalwireError('VW_ERR_PROVISION', `no certificate${o.serial ? ` ${o.serial}` : ''} issued to ${site}/${gateway} in ${p.issued}`);
  }
  const revoked = await readRevocationFile(p.revoked, true);
  const already = new Set(revoked.map((e) => canonicalSerial(e.serial)));
  const now = new Date().toISOString();
  const added: RevokedEntry[] = wanted.filter((e) => !already.has(e.serial))
    .map((e) => ({ serial: e.serial, identity: `${site}/${gateway}`, revokedAt: now, ...(o.reason ? { reason: o.reason } : {}) }));
  await writeRevocationFile(p.revoked, [...revoked, ...added]);
  return added.map((e) => e.serial);
}

export async function listGateways(pkiDir: string): Promise<(IssuedEntry & { revoked: boolean })[]> {
  const p = pkiPaths(pkiDir);
  const revoked = new Set((await readRevocationFile(p.revoked, true)).map((e) => canonicalSerial(e.serial)));
  return (await readIssued(p.issued)).map((e) => ({ ...e, revoked: revoked.has(e.serial) }));
}
