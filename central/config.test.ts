import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, validateConfig } from '../lib/config.js';
import { BROKER_LIMIT_DOCS, centralConfig, centralConfigSchema, withRedis } from './config.js';
import { archiveConfigOf } from './central.js';
import { DEFAULT_LIMITS, LAB_LIMITS } from '../broker/limits.js';

const doc = readFileSync(join(import.meta.dirname, '..', 'docs', 'broker.md'), 'utf8');
const documented = new Map(
  [...doc.matchAll(/^\| `limits\.(\w+)` \| ([0-9]+) \|/gm)].map((m) => [m[1] ?? '', Number(m[2])]),
);
const minimal = { tls: { ca: 'ca.crt', cert: 'b.crt', key: 'b.key' } };

describe('central config', () => {
  it('documents every limit once in docs/broker.md, with the default the code uses', () => {
    expect(Object.fromEntries(documented)).toEqual({ ...BROKER_LIMIT_DOCS });
  });

  it('fills every limit with its default from a minimal file', () => {
    const c = validateConfig(centralConfigSchema, minimal, 'test');
    expect(c.limits).toEqual(DEFAULT_LIMITS);
    expect(c.listen).toEqual({ host: '0.0.0.0', port: 8883 });
    expect(c.redis).toBeUndefined();
  });

  it('refuses unknown keys, so a misspelt limit never keeps its default silently', () => {
    let issues: readonly { path: string }[] = [];
    try {
      validateConfig(centralConfigSchema, { ...minimal, limits: { maxPacketByte: 10 }, extra: true }, 'test');
    } catch (err) {
      issues = (err as ConfigError).issues;
    }
    expect(issues.map((i) => i.path).sort()).toEqual(['', 'limits']);
  });

  it('checks keep-alive bounds against each other', () => {
    expect(() =>
      validateConfig(
        centralConfigSchema,
        { ...minimal, limits: { keepAliveMinSeconds: 100, keepAliveMaxSeconds: 50 } },
        'test',
      ),
    ).toThrow(/limits.keepAliveMinSeconds: must not exceed keepAliveMaxSeconds/);
  });

  it('requires TLS outside lab mode, and keeps the lab listener free of anything that serves or shares data', () => {
    expect(() => validateConfig(centralConfigSchema, {}, 'test')).toThrow(/tls: required/);
    const lab = centralConfig({ lab: true });
    expect(lab.listen).toEqual({ host: '127.0.0.1', port: 1883 });
    expect(lab.limits).toEqual(LAB_LIMITS); // MQTT 3.1.1's bounds, not production policy: keep-alive 0 is allowed
    expect(centralConfig({ lab: true, limits: { keepAliveMinSeconds: 2 } }).limits).toEqual({
      ...LAB_LIMITS,
      keepAliveMinSeconds: 2,
    });
    expect(lab.tls).toBeUndefined();
    let issues: readonly { path: string }[] = [];
    try {
      centralConfig({ lab: true, ...minimal, users: { file: 'u.yaml' }, fanout: {} });
    } catch (err) {
      issues = (err as ConfigError).issues;
    }
    expect(issues.map((i) => i.path).sort()).toEqual(['fanout', 'tls', 'users']);
  });

  it('puts --redis over a config file by validating the whole config again', () => {
    const c = withRedis(
      centralConfig({ ...minimal, redis: { url: 'redis://a:6379', maxSessionDelivery: 7 } }),
      'redis://b:6379',
    );
    expect(c.redis).toEqual({ url: 'redis://b:6379', connectTimeoutMs: 30_000, maxSessionDelivery: 7 });
    expect(Object.isFrozen(c.redis)).toBe(true);
    expect(() => withRedis(centralConfig(minimal), 'http://nope')).toThrow(/redis.url/);
  });

  it('takes an archive section, its errors reported with the rest, its dataDir relative to the config file', () => {
    const c = centralConfig({ ...minimal, archive: { dataDir: 'rec', journal: { commitDelayMs: 2 } } });
    expect(archiveConfigOf(c, '/etc/vitalwire')).toMatchObject({
      dataDir: '/etc/vitalwire/rec',
      store: 'duckdb',
      journal: { commitDelayMs: 2, maxBytes: 4 * 1024 ** 3 },
    });
    expect(archiveConfigOf(centralConfig(minimal), '/x')).toBeNull();
    let issues: readonly { path: string }[] = [];
    try {
      centralConfig({
        ...minimal,
        archive: { dataDir: 'rec', store: 'postgres', loader: { intervalMs: 1 } },
        limits: { maxPacketBytes: 1 },
      } as never);
    } catch (err) {
      issues = (err as ConfigError).issues;
    }
    expect(issues.map((i) => i.path).sort()).toEqual([
      'archive.loader.intervalMs',
      'archive.postgres',
      'limits.maxPacketBytes',
    ]);
    // The lab listener carries no patient data: it keeps no clinical record either.
    expect(() => centralConfig({ lab: true, archive: { dataDir: 'rec' } })).toThrow(/archive: not available with lab/);
  });
});
