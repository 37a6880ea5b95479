// vitest globalSetup: one real redis-server for the whole run, on a free loopback port (ecosystem trap 10), its URL
// handed to tests with provide/inject. Without redis-server the URL is null and the Redis suites skip, saying why.
// Suites that need a Redis to themselves start their own with test/redis-server.ts.
// It also builds dist/ first (about a second): tests that start bin/vitalwire run the compiled code a user runs, and
// must run the sources under test, not an older build.
// Under CI (.ci/run sets VW_CI) every real part must be there: a suite that skips on a developer machine without
// socat, redis-server, Chromium or PostgreSQL fails the run instead of skipping unseen.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { socatAvailable } from '../simulators/pty.js';
import { chromiumAvailable } from './browser.js';
import { postgresSkipReason } from './postgres-server.js';
import { redisServerAvailable, startRedisServer } from './redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** redis://127.0.0.1:<port> of the run's redis-server, or null when redis-server is not installed. */
    redisUrl: string | null;
    /** Why redisUrl is null ('' when it is not). */
    redisSkipReason: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.VW_CI) {
    const missing = [
      socatAvailable() ? '' : 'socat',
      redisServerAvailable() ? '' : 'redis-server',
      chromiumAvailable() ? '' : 'chromium',
      postgresSkipReason() ? `postgresql (${postgresSkipReason()})` : '',
    ].filter(Boolean);
    if (missing.length > 0) throw new Error(`VW_CI: real parts missing, suites would skip: ${missing.join(', ')}`);
  }
  execFileSync(process.execPath, [join(import.meta.dirname, '..', 'scripts', 'build.mjs')], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (!redisServerAvailable()) {
    project.provide('redisUrl', null);
    project.provide('redisSkipReason', '`which redis-server` found nothing (apt-get install redis-server)');
    return async () => undefined;
  }
  const redis = await startRedisServer();
  project.provide('redisUrl', redis.url);
  project.provide('redisSkipReason', '');
  return () => redis.stop();
}
