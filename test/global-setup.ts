// vitest globalSetup: one real redis-server for the whole run, on a free loopback port (ecosystem trap 10), its URL
// handed to tests with provide/inject. Without redis-server the URL is null and the Redis suites skip, saying why.
// Suites that need a Redis to themselves start their own with test/redis-server.ts.
// It also builds dist/ first (about a second): tests that start bin/vitalwire run the compiled code a user runs, and
// must run the sources under test, not an older build.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
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
