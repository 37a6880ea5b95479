// The central side's configuration (`vitalwire central --config FILE`, and the same shape built in code by the CLI's
// dev and lab modes and by the demo stack): schema with every default, loading, and the translation to broker
// options. docs/broker.md documents each key; its limits table is checked against BROKER_LIMIT_DOCS below by
// central/config.test.ts. central.ts builds the whole central side from one validated, frozen CentralConfig.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { z } from 'zod';
import { loadConfigFile, validateConfig, type DeepReadonly } from '../lib/config.js';
import { archiveConfigSchema } from '../archive/config.js';
import type { BrokerOptions } from '../broker/broker.js';
import { checkLimits, DEFAULT_LIMITS, LAB_LIMITS, type BrokerLimits } from '../broker/limits.js';
import { fileRevocationList } from '../broker/revocation.js';
import { openUsersFile } from '../broker/users-file.js';
import type { UserStore } from '../broker/users.js';

const D = DEFAULT_LIMITS;
const port = z.number().int().min(0).max(65535);
const int = (min: number, max: number, def: number) => z.number().int().min(min).max(max).default(def);

const limitsSchema = z
  .strictObject({
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
    maxRetainedPerIdentity: int(0, 1e9, D.maxRetainedPerIdentity),
    maxRetainedBytesPerIdentity: int(0, 1e15, D.maxRetainedBytesPerIdentity),
    authFailuresBeforeBackoff: int(0, 1000, D.authFailuresBeforeBackoff),
    authBackoffBaseMs: int(1, 3_600_000, D.authBackoffBaseMs),
    authBackoffMaxMs: int(1, 86_400_000, D.authBackoffMaxMs),
  })
  .prefault({})
  .superRefine((l, ctx) => {
    if (l.keepAliveMinSeconds > l.keepAliveMaxSeconds) {
      ctx.addIssue({ code: 'custom', path: ['keepAliveMinSeconds'], message: 'must not exceed keepAliveMaxSeconds' });
    }
    if (l.authBackoffBaseMs > l.authBackoffMaxMs) {
      ctx.addIssue({ code: 'custom', path: ['authBackoffBaseMs'], message: 'must not exceed authBackoffMaxMs' });
    }
  });

const centralObject = z.strictObject({
  /** The conformance listener: plain TCP on loopback, no authentication, no ACLs (never patient data). */
  lab: z.boolean().default(false),
  listen: z
    .strictObject({
      host: z.string().min(1).default('0.0.0.0'),
      port: port.default(8883),
    })
    .prefault({}),
  tls: z
    .strictObject({
      ca: z.string().min(1),
      cert: z.string().min(1),
      key: z.string().min(1),
      /** JSON list written by `vitalwire gateways revoke`; re-read when it changes. */
      revocationList: z.string().min(1).optional(),
      /** How often connected gateways' certificates are checked against the list again. */
      revocationRecheckSeconds: int(1, 86_400, 30),
    })
    .optional(),
  websocket: z
    .strictObject({
      host: z.string().min(1).optional(),
      port: port.default(8884),
      path: z.string().startsWith('/').default('/mqtt'),
    })
    .optional(),
  users: z
    .strictObject({
      file: z.string().min(1),
      /** How often connected users are checked against the file: removed ones disconnected, narrowed scopes applied. */
      recheckSeconds: int(1, 3600, 10),
    })
    .optional(),
  redis: z
    .strictObject({
      url: z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'),
      connectTimeoutMs: int(100, 600_000, 30_000),
      maxSessionDelivery: int(1, 1_000_000, 1000),
    })
    .optional(),
  http: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: port.default(9464),
    })
    .optional(),
  fanout: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: port.default(8080),
      /** HTTPS and WSS with this certificate and key (PEM): logins and session tokens never cross the network in clear. */
      tls: z
        .strictObject({
          cert: z.string().min(1),
          key: z.string().min(1),
        })
        .optional(),
    })
    .optional(),
  /** The fan-out's state: its session key (fanout/session.key) and access audit (audit/). Default: the config's directory. */
  dataDir: z.string().min(1).default('.'),
  brokerId: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/)
    .optional(),
  /** The clinical record: every accepted Batch journaled before its PUBACK, then stored (docs/archive.md). */
  archive: archiveConfigSchema.optional(),
  limits: limitsSchema,
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    })
    .prefault({}),
});

/** What the lab listener cannot have: it has no authentication, so nothing that serves or shares real data. */
const NOT_IN_LAB = ['tls', 'websocket', 'users', 'redis', 'fanout', 'archive'] as const;

/**
 * The lab listener's own defaults: loopback, the port registered for MQTT over plain TCP (IANA 1883), and limits that
 * are MQTT 3.1.1's own bounds (LAB_LIMITS: keep-alive 0 to 65535, any packet size...), so a conformance suite meets
 * the protocol rather than production policy. Limits given in the config still win.
 */
function labDefaults(input: unknown): unknown {
  if (typeof input !== 'object' || input === null || (input as { lab?: unknown }).lab !== true) return input;
  const i = input as { listen?: object; limits?: object };
  return { ...i, listen: { host: '127.0.0.1', port: 1883, ...i.listen }, limits: { ...LAB_LIMITS, ...i.limits } };
}

export const centralConfigSchema = z.preprocess(
  labDefaults,
  centralObject.superRefine((c, ctx) => {
    if (c.lab) {
      for (const key of NOT_IN_LAB) {
        if (c[key] !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: [key],
            message: 'not available with lab: the lab listener has no authentication',
          });
      }
    } else if (!c.tls) {
      ctx.addIssue({ code: 'custom', path: ['tls'], message: 'required: MQTT runs over TLS only, outside lab mode' });
    }
  }),
);

export type CentralConfigInput = z.input<typeof centralObject>;

export type CentralConfig = DeepReadonly<z.output<typeof centralConfigSchema>>;

export async function loadCentralConfig(
  file: string,
): Promise<{ config: CentralConfig; configDir: string; file: string }> {
  return loadConfigFile(centralConfigSchema, file);
}

/** Validates a config built in code (dev and lab modes, the demo stack) the same way as a file, and freezes it. */
export function centralConfig(input: CentralConfigInput, source = 'central config'): CentralConfig {
  return validateConfig(centralConfigSchema, input, source);
}

/** The same config with another Redis URL (`--redis URL` over a config file), validated again. */
export function withRedis(config: CentralConfig, url: string): CentralConfig {
  return centralConfig({ ...config, redis: { ...config.redis, url } } as CentralConfigInput);
}

/**
 * Broker options from a validated config: reads the TLS material, opens the users file and the revocation list it
 * names (relative paths are relative to `baseDir`). `users` replaces the users file (the demo's in-memory store).
 */
export async function brokerOptions(
  config: CentralConfig,
  baseDir: string,
  o: { users?: UserStore | undefined } = {},
): Promise<BrokerOptions> {
  const at = (p: string): string => resolve(baseDir, p);
  const limits: BrokerLimits = { ...config.limits };
  const problems = checkLimits(limits);
  if (problems.length > 0) throw new Error(problems.join('; '));
  const tls = config.tls;
  const users = o.users ?? (config.users ? await openUsersFile(at(config.users.file)) : undefined);
  return {
    host: config.listen.host,
    port: config.listen.port,
    limits,
    ...(config.lab ? { lab: true } : {}),
    ...(tls
      ? {
          tls: { ca: await readFile(at(tls.ca)), cert: await readFile(at(tls.cert)), key: await readFile(at(tls.key)) },
        }
      : {}),
    ...(users ? { users } : {}),
    ...(config.users ? { usersRecheckMs: config.users.recheckSeconds * 1000 } : {}),
    ...(tls?.revocationList
      ? {
          revocation: fileRevocationList(at(tls.revocationList)),
          revocationRecheckMs: tls.revocationRecheckSeconds * 1000,
        }
      : {}),
    ...(config.redis
      ? {
          redis: {
            url: config.redis.url,
            connectTimeoutMs: config.redis.connectTimeoutMs,
            maxSessionDelivery: config.redis.maxSessionDelivery,
          },
        }
      : {}),
    ...(config.websocket
      ? {
          websocket: {
            port: config.websocket.port,
            path: config.websocket.path,
            ...(config.websocket.host ? { host: config.websocket.host } : {}),
          },
        }
      : {}),
    ...(config.http ? { http: { host: config.http.host, port: config.http.port } } : {}),
    ...(config.brokerId ? { brokerId: config.brokerId } : {}),
  };
}

/** Every limit key with its default, as docs/broker.md must list them (checked by a test). */
export const BROKER_LIMIT_DOCS: Readonly<Record<keyof BrokerLimits, number>> = DEFAULT_LIMITS;
