// The central broker's configuration file (`vitalwire central --config FILE`): schema with every default, loading,
// and the translation to startCentral options. docs/broker.md documents each key; its table is checked against
// BROKER_LIMIT_DOCS below by broker/config.test.ts.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { z } from 'zod';
import { loadConfigFile, type DeepReadonly } from '../lib/config.js';
import type { Logger } from '../lib/log.js';
import type { CentralOptions } from '../broker/broker.js';
import { checkLimits, DEFAULT_LIMITS, type BrokerLimits } from '../broker/limits.js';
import { fileRevocationList } from '../broker/revocation.js';
import { openUsersFile } from '../broker/users-file.js';

const D = DEFAULT_LIMITS;
const port = z.number().int().min(0).max(65535);
const int = (min: number, max: number, def: number) => z.number().int().min(min).max(max).default(def);

const limitsSchema = z.strictObject({
  maxPacketBytes: int(64, 268_435_460, D.maxPacketBytes),
  maxConnectionsPerIdentity: int(1, 1_000_000, D.maxConnectionsPerIdentity),
  publishRatePerSecond: z.number().positive().max(1e9).default(D.publishRatePerSecond),
  publishBurst: int(1, 1e9, D.publishBurst),
  keepAliveMinSeconds: int(0, 65535, D.keepAliveMinSeconds),
  keepAliveMaxSeconds: int(1, 65535, D.keepAliveMaxSeconds),
  maxBufferedBytesPerClient: int(1024, 2 ** 31, D.maxBufferedBytesPerClient),
  drainTimeoutMs: int(1, 3_600_000, D.drainTimeoutMs),
  tlsHandshakeTimeoutMs: int(100, 600_000, D.tlsHandshakeTimeoutMs),
  connectTimeoutMs: int(100, 600_000, D.connectTimeoutMs),
  maxSubscriptionsPerClient: int(1, 100_000, D.maxSubscriptionsPerClient),
  maxInflightInbound: int(1, 65535, D.maxInflightInbound),
  maxClientIdLength: int(23, 65535, D.maxClientIdLength),
}).prefault({}).superRefine((l, ctx) => {
  if (l.keepAliveMinSeconds > l.keepAliveMaxSeconds) {
    ctx.addIssue({ code: 'custom', path: ['keepAliveMinSeconds'], message: 'must not exceed keepAliveMaxSeconds' });
  }
});

export const centralConfigSchema = z.strictObject({
  listen: z.strictObject({
    host: z.string().min(1).default('0.0.0.0'),
    port: port.default(8883),
  }).prefault({}),
  tls: z.strictObject({
    ca: z.string().min(1),
    cert: z.string().min(1),
    key: z.string().min(1),
    /** JSON list written by `vitalwire gateways revoke`; re-read when it changes. */
    revocationList: z.string().min(1).optional(),
    /** How often connected gateways' certificates are checked against the list again. */
    revocationRecheckSeconds: int(1, 86_400, 30),
  }),
  websocket: z.strictObject({
    host: z.string().min(1).optional(),
    port: port.default(8884),
    path: z.string().startsWith('/').default('/mqtt'),
  }).optional(),
  users: z.strictObject({ file: z.string().min(1) }).optional(),
  redis: z.strictObject({
    url: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'),
    connectTimeoutMs: int(100, 600_000, 30_000),
    maxSessionDelivery: int(1, 1_000_000, 1000),
  }).optional(),
  http: z.strictObject({
    host: z.string().min(1).default('127.0.0.1'),
    port: port.default(9464),
  }).optional(),
  fanout: z.strictObject({
    host: z.string().min(1).default('127.0.0.1'),
    port: port.default(8080),
  }).optional(),
  brokerId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).optional(),
  limits: limitsSchema,
  log: z.strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  }).prefault({}),
});

export type CentralConfig = DeepReadonly<z.output<typeof centralConfigSchema>>;

export async function loadCentralConfig(file: string): Promise<{ config: CentralConfig; configDir: string; file: string }> {
  return loadConfigFile(centralConfigSchema, file);
}

/** Reads the files a config names (TLS material, users, revocation list) and builds startCentral options. */
export async function centralOptionsFromConfig(
  config: CentralConfig,
  configDir: string,
  logger: Logger,
  overrides: { redisUrl?: string } = {},
): Promise<CentralOptions> {
  const at = (p: string): string => resolve(configDir, p);
  const limits: BrokerLimits = { ...config.limits };
  const problems = checkLimits(limits);
  if (problems.length > 0) throw new Error(problems.join('; '));
  const redisUrl = overrides.redisUrl ?? config.redis?.url;
  return {
    host: config.listen.host,
    port: config.listen.port,
    tls: { ca: await readFile(at(config.tls.ca)), cert: await readFile(at(config.tls.cert)), key: await readFile(at(config.tls.key)) },
    ...(config.users ? { users: await openUsersFile(at(config.users.file)) } : {}),
    ...(config.tls.revocationList ? {
      revocation: fileRevocationList(at(config.tls.revocationList)),
      revocationRecheckMs: config.tls.revocationRecheckSeconds * 1000,
    } : {}),
    limits,
    ...(redisUrl ? {
      redis: {
        url: redisUrl,
        connectTimeoutMs: config.redis?.connectTimeoutMs ?? 30_000,
        maxSessionDelivery: config.redis?.maxSessionDelivery ?? 1000,
      },
    } : {}),
    ...(config.websocket ? { websocket: { port: config.websocket.port, path: config.websocket.path, ...(config.websocket.host ? { host: config.websocket.host } : {}) } } : {}),
    ...(config.http ? { http: { host: config.http.host, port: config.http.port } } : {}),
    ...(config.brokerId ? { brokerId: config.brokerId } : {}),
    logger,
  };
}

/** Every limit key with its default, as docs/broker.md must list them (checked by a test). */
export const BROKER_LIMIT_DOCS: Readonly<Record<keyof BrokerLimits, number>> = DEFAULT_LIMITS;
