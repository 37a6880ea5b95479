// Shared fixtures for the broker suites: a real PKI on disk (CA, broker, gateway certificates good and bad), users,
// and small helpers over real mqtt.js clients. Not a test file itself.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { parseStreamTopic } from '../lib/topics.js';
import { Batch as BatchFields } from '../proto/gen/fields.js';
import { Batch, Kind, type IBatch } from '../proto/index.js';
import { ensureDevPki, issueGatewayCert } from './pki.js';
import { hashPassword, type User } from './users.js';

export interface Pem {
  certPem: string;
  keyPem: string;
  /** The same certificate and key on disk, for mosquitto clients. */
  certFile: string;
  keyFile: string;
}

export interface TestPki {
  dir: string;
  caPem: string;
  caFile: string;
  caKeyPem: string;
  brokerTls: { key: string; cert: string; ca: string };
  /** The same material as files, for a config (central/config.ts `tls`). */
  brokerFiles: { key: string; cert: string; ca: string };
  site1gw1: Pem;
  site1gw2: Pem;
  site2gw1: Pem;
  /** site1/gw1 issued by another CA. */
  foreign: Pem;
  /** site1/gw1, expired yesterday. */
  expired: Pem;
  /** site1/gw1, on the revocation list (`revokedSerials`). */
  revoked: Pem;
  revokedSerials: string[];
}

async function onDisk(dir: string, name: string, p: { certPem: string; keyPem: string }): Promise<Pem> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  await writeFile(certFile, p.certPem);
  await writeFile(keyFile, p.keyPem, { mode: 0o600 });
  return { ...p, certFile, keyFile };
}

export async function makeTestPki(dir: string): Promise<TestPki> {
  const pki = await ensureDevPki(dir, { site: 'site1', gateway: 'gw1' });
  const read = (p: string): Promise<string> => readFile(p, 'utf8');
  const caPem = await read(pki.caCert);
  const caKeyPem = await read(pki.caKey);
  const ca = { certPem: caPem, keyPem: caKeyPem };
  const certs = join(dir, 'certs');
  await mkdir(certs, { recursive: true, mode: 0o700 });
  const other = await ensureDevPki(join(dir, 'other'), { site: 'site1', gateway: 'gw1' });
  const day = 86_400_000;
  const revoked = await issueGatewayCert(ca, 'site1', 'gw1');
  const { X509Certificate } = await import('node:crypto');
  return {
    dir,
    caPem,
    caFile: pki.caCert,
    caKeyPem,
    brokerTls: { key: await read(pki.brokerKey), cert: await read(pki.brokerCert), ca: caPem },
    brokerFiles: { key: pki.brokerKey, cert: pki.brokerCert, ca: pki.caCert },
    site1gw1: await onDisk(certs, 'site1-gw1', {
      certPem: await read(pki.gatewayCert),
      keyPem: await read(pki.gatewayKey),
    }),
    site1gw2: await onDisk(certs, 'site1-gw2', await issueGatewayCert(ca, 'site1', 'gw2')),
    site2gw1: await onDisk(certs, 'site2-gw1', await issueGatewayCert(ca, 'site2', 'gw1')),
    foreign: await onDisk(certs, 'foreign', {
      certPem: await read(other.gatewayCert),
      keyPem: await read(other.gatewayKey),
    }),
    expired: await onDisk(
      certs,
      'expired',
      await issueGatewayCert(ca, 'site1', 'gw1', {
        notBefore: new Date(Date.now() - 30 * day),
        notAfter: new Date(Date.now() - day),
      }),
    ),
    revoked: await onDisk(certs, 'revoked', revoked),
    revokedSerials: [new X509Certificate(revoked.certPem).serialNumber],
  };
}

const KINDS = { obs: Kind.KIND_OBS, wave: Kind.KIND_WAVE, alarm: Kind.KIND_ALARM, status: Kind.KIND_STATUS } as const;

/**
 * A contract-valid payload for a stream topic: a vitalwire.v1.Batch whose Source and kind are the topic's (what the
 * broker requires of every payload on a stream topic). `body` adds the rest (seq, observations, statuses...).
 */
export function batch(topic: string, body: Omit<IBatch, 'source' | 'kind'> = {}): Buffer {
  const t = parseStreamTopic(topic);
  if (!t) throw new Error(`${topic} is not a stream topic`);
  return Buffer.from(
    Batch.encode({
      seq: 1,
      ...body,
      source: { site: t.site, gateway: t.gateway, device: t.device },
      kind: KINDS[t.kind],
    }).finish(),
  );
}

/** A contract-valid Batch for `topic` of exactly `size` bytes (its Source.model as filler), for tests of size limits. */
export function sizedBatch(topic: string, size: number): Buffer {
  const t = parseStreamTopic(topic);
  if (!t) throw new Error(`${topic} is not a stream topic`);
  const of = (n: number): Buffer =>
    Buffer.from(
      Batch.encode({
        source: { site: t.site, gateway: t.gateway, device: t.device, model: 'x'.repeat(Math.max(0, n)) },
        kind: KINDS[t.kind],
        seq: 1,
      }).finish(),
    );
  let n = size;
  while (n > 0 && of(n).length > size) n--;
  const b = of(n);
  if (b.length !== size) throw new Error(`no Batch of exactly ${size} bytes for ${topic}`);
  return b;
}

/**
 * `payload` with a send time (ms, float64 big-endian) in front, at byte 1, in a field number the contract does not use
 * (fixed64, which a decoder skips): still a valid Batch, and a latency probe for tests of delivery. 9 bytes more.
 */
export function withSendTime(payload: Uint8Array, ms = Date.now()): Buffer {
  const head = Buffer.alloc(9);
  head[0] = ((Math.max(...Object.values(BatchFields)) + 1) << 3) | 1;
  head.writeDoubleBE(ms, 1);
  return Buffer.concat([head, payload]);
}

/** A status Batch that says `diagnosis`: tests tell payloads apart by it. */
export function statusBatch(topic: string, diagnosis: string, seq = 1): Buffer {
  return batch(topic, { seq, statuses: [{ diagnosis }] });
}

/** The diagnosis a statusBatch carried ('' when none). */
export function diagnosisOf(payload: Uint8Array): string {
  return Batch.decode(payload).statuses[0]?.diagnosis ?? '';
}

/** obs1: observer of site1; obsall: observer of all sites; svc: service; admin1: admin of site1; adminall: admin of all sites. Password = 'pw-' + name. */
export async function testUsers(): Promise<User[]> {
  const u = async (name: string, role: User['role'], sites: string[]): Promise<User> => ({
    name,
    role,
    sites,
    hash: await hashPassword(`pw-${name}`),
  });
  return Promise.all([
    u('obs1', 'observer', ['site1']),
    u('obsall', 'observer', ['*']),
    u('svc', 'service', ['*']),
    u('admin1', 'admin', ['site1']),
    u('adminall', 'admin', ['*']),
  ]);
}

/** Real mqtt.js clients, all ended by `endAll` (call it in afterEach). */
export class Clients {
  readonly #open: MqttClient[] = [];
  readonly #caPem: string;
  url: string;

  constructor(caPem: string, url: string) {
    this.#caPem = caPem;
    this.url = url;
  }

  base(extra: IClientOptions = {}): IClientOptions {
    return { ca: this.#caPem, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ...extra };
  }

  async connect(opts: IClientOptions, url = this.url): Promise<MqttClient> {
    const c = await mqtt.connectAsync(url, opts, false);
    this.#open.push(c);
    return c;
  }

  gateway(pem: { certPem: string; keyPem: string }, clientId: string, extra: IClientOptions = {}): Promise<MqttClient> {
    return this.connect(this.base({ cert: pem.certPem, key: pem.keyPem, clientId, ...extra }));
  }

  user(name: string, extra: IClientOptions = {}): Promise<MqttClient> {
    return this.connect(
      this.base({
        username: name,
        password: `pw-${name}`,
        clientId: `${name}:${Math.random().toString(16).slice(2, 8)}`,
        ...extra,
      }),
    );
  }

  /** The CONNACK return code of a refused connect; throws if the connect succeeds. */
  async refusedCode(opts: IClientOptions, url = this.url): Promise<number | string | undefined> {
    try {
      await this.connect(opts, url);
    } catch (err) {
      return (err as { code?: number | string }).code;
    }
    throw new Error('connect was accepted');
  }

  track(c: MqttClient): MqttClient {
    this.#open.push(c);
    return c;
  }

  async endAll(): Promise<void> {
    await Promise.all(this.#open.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
  }
}

/** SUBACK return codes: mqtt.js resolves with grants when all succeed and rejects with the packet otherwise. */
export async function granted(
  c: MqttClient,
  filter: string | Record<string, { qos: 0 | 1 | 2 }>,
  qos: 0 | 1 | 2 = 1,
): Promise<number[]> {
  try {
    const grants =
      typeof filter === 'string' ? await c.subscribeAsync(filter, { qos }) : await c.subscribeAsync(filter);
    return grants.map((g) => g.qos);
  } catch (err) {
    const codes = (err as { packet?: { granted?: number[] } }).packet?.granted;
    if (!codes) throw err;
    return codes;
  }
}

export function nextMessage(
  c: MqttClient,
  topic?: string,
): Promise<{ topic: string; payload: Buffer; retain: boolean }> {
  return new Promise((resolve) => {
    const on = (t: string, payload: Buffer, packet: { retain?: boolean }): void => {
      if (topic !== undefined && t !== topic) return;
      c.off('message', on);
      resolve({ topic: t, payload, retain: packet.retain === true });
    };
    c.on('message', on);
  });
}

export function closed(c: MqttClient): Promise<void> {
  return new Promise((resolve) => (c.connected ? c.once('close', () => resolve()) : resolve()));
}

export async function until(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const BIN = join(import.meta.dirname, '..', 'bin', 'vitalwire');

/** The central's systemd unit: the tests and the bench take its allocator settings from it. */
export const CENTRAL_UNIT = join(import.meta.dirname, '..', 'deploy', 'vitalwire-central.service');

/**
 * The allocator settings a deployed central runs with: the unit's `Environment=LD_PRELOAD=...` and
 * `Environment=MALLOC_CONF=...` lines (unquoted, as the unit writes them).
 */
export function deployedAllocatorEnv(unitText = readFileSync(CENTRAL_UNIT, 'utf8')): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of unitText.matchAll(/^Environment=(LD_PRELOAD|MALLOC_CONF)=(\S+)$/gm)) env[m[1] ?? ''] = m[2] ?? '';
  return env;
}

/**
 * Starts `vitalwire central ...` as systemd does, through the command's launcher (bin/vitalwire run as a program: it
 * picks Node's flags for the CPUs it may use), and resolves once it printed 'central: ready', with the ports it printed.
 * `nodeFlags` reach node through the launcher's VW_NODE_FLAGS; `cpus` (taskset's list) starts it on those CPUs only.
 */
export async function startCentralProcess(
  args: string[],
  nodeFlags: string[] = [],
  env: NodeJS.ProcessEnv = process.env,
  cpus?: string,
): Promise<{ child: ChildProcess; port: number; out: () => string; stop(): Promise<void> }> {
  const command = [BIN, 'central', ...args];
  // taskset and the launcher both exec what follows them: child.pid is the central's node.
  const child = spawn(
    cpus === undefined ? BIN : 'taskset',
    cpus === undefined ? command.slice(1) : ['-c', cpus, ...command],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...env, VW_NODE_FLAGS: nodeFlags.join(' ') },
    },
  );
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  await until(() => out.includes('central: ready') || child.exitCode !== null, 25_000, 'central ready');
  if (child.exitCode !== null) throw new Error(`central exited ${child.exitCode}: ${out}`);
  const port = Number(
    /MQTT over TLS on [^\s]+:(\d+)/.exec(out)?.[1] ?? /lab MQTT \(plain TCP\) on [^\s]+:(\d+)/.exec(out)?.[1],
  );
  return {
    child,
    port,
    out: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * A test file's PKI and clients: a temp directory with a test PKI before the file's tests, every client ended after
 * each test, the directory removed at the end. Read the fields inside tests (they are set in beforeAll).
 */
export function pkiPerFile(prefix: string): { readonly dir: string; readonly pki: TestPki; readonly k: Clients } {
  const f = {} as { dir: string; pki: TestPki; k: Clients };
  beforeAll(async () => {
    f.dir = await mkdtemp(join(tmpdir(), `vw-${prefix}-`));
    f.pki = await makeTestPki(f.dir);
    f.k = new Clients(f.pki.caPem, '');
  });
  afterEach(async () => {
    await f.k.endAll();
  });
  afterAll(async () => {
    await rm(f.dir, { recursive: true, force: true });
  });
  return f;
}
