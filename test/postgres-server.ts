// A throwaway PostgreSQL server from Debian's packages for tests: initdb in a temporary directory, listening on a
// free loopback port and a socket in that directory, stopped (immediate mode) and deleted after. initdb refuses to
// run as root, so as root every step runs as the `postgres` user (runuser), in a directory that user owns.
// Durability settings are off: these tests exercise our SQL and our exactly-once logic, not PostgreSQL's fsync.
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../lib/listen.js';

const run = promisify(execFile);

export interface TestPostgres {
  url: string;
  stop(): Promise<void>;
}

/** The bin directory of the newest PostgreSQL >= 15 installed, or null. */
export function postgresBinDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .map(Number)
    .filter((v) => v >= 15)
    .sort((a, b) => b - a);
  for (const v of versions) {
    const bin = join(root, String(v), 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return bin;
  }
  return null;
}

/** Why PostgreSQL tests cannot run here ('' when they can). */
export function postgresSkipReason(): string {
  if (!postgresBinDir()) return 'no /usr/lib/postgresql/<15+>/bin/initdb (apt-get install postgresql)';
  if (process.getuid?.() === 0 && spawnSync('id', ['-u', 'postgres']).status !== 0)
    return 'running as root and there is no postgres user for initdb';
  return '';
}

export async function startPostgres(): Promise<TestPostgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error(postgresSkipReason());
  const dir = await mkdtemp(join(tmpdir(), 'vw-pg-'));
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const uid = Number(spawnSync('id', ['-u', 'postgres']).stdout.toString().trim());
    const gid = Number(spawnSync('id', ['-g', 'postgres']).stdout.toString().trim());
    await chown(dir, uid, gid);
    await chmod(dir, 0o700);
  }
  const as = (cmd: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]) : run(join(bin, cmd), args);
  const data = join(dir, 'db');
  await as('initdb', ['-D', data, '-A', 'trust', '-U', 'vw', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  let lastErr: unknown;
  // A port found free can be taken before the server binds it: try a few.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    try {
      await as('pg_ctl', [
        '-D',
        data,
        '-w',
        '-t',
        '30',
        '-l',
        join(dir, 'log'),
        '-o',
        `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50`,
        'start',
      ]);
      return {
        url: `postgres://vw@127.0.0.1:${port}/postgres`,
        async stop() {
          await as('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
          await rm(dir, { recursive: true, force: true });
        },
      };
    } catch (err) {
      lastErr = err;
    }
  }
  const log = await readFile(join(dir, 'log'), 'utf8').catch(() => '');
  await rm(dir, { recursive: true, force: true });
  throw new Error(`PostgreSQL did not start: ${String(lastErr)}\n${log}`);
}
