// A throwaway redis-server on a free loopback port (ecosystem trap 10): no persistence, killed by its pid.
// test/global-setup.ts starts the run's shared one with it; a suite that needs Redis to itself (takeovers, flushes,
// SIGKILLed brokers) starts its own, since Redis pub/sub channels are shared by every database of a server.
import { freePort } from '../lib/listen.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';

export function redisServerAvailable(): boolean {
  return spawnSync('which', ['redis-server']).status === 0;
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let buf = '';
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.once('error', () => done(false));
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
  });
}

export interface TestRedis {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

export async function startRedisServer(): Promise<TestRedis> {
  let log = '';
  // A port found free can be taken before redis binds it: try a few.
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const c: ChildProcess = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--protected-mode',
        'yes',
        '--loglevel',
        'warning',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    c.stdout?.on('data', (d: Buffer) => (log += d.toString()));
    c.stderr?.on('data', (d: Buffer) => (log += d.toString()));
    const deadline = Date.now() + 5000;
    let up = false;
    while (!up && Date.now() < deadline && c.exitCode === null) {
      up = await answersPing(port);
      if (!up) await new Promise((r) => setTimeout(r, 50));
    }
    if (!up) {
      c.kill('SIGKILL');
      continue;
    }
    return {
      url: `redis://127.0.0.1:${port}`,
      pid: c.pid ?? 0,
      async stop() {
        if (c.exitCode !== null || c.signalCode !== null) return;
        const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
        c.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      },
    };
  }
  throw new Error(`redis-server did not start: ${log}`);
}
