// `vitalwire simulate` as a user runs it (issue 13): its monitor marks what it sends as simulated unless told
// `--as-real`, which says in the log that this synthetic patient now looks real.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createMllpFramer } from '../decoders/framing/mllp.js';

const BIN = join(import.meta.dirname, '..', 'bin', 'vitalwire');
let child: ChildProcess | null = null;
afterEach(async () => {
  const c = child;
  child = null;
  if (c && c.exitCode === null && c.signalCode === null) {
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await exited;
  }
});

/** Starts `vitalwire simulate --tcp-listen 0 ...`, reads its first message over TCP, and returns it with the log. */
async function firstMessage(args: string[]): Promise<{ message: string; log: () => string }> {
  const c = spawn(process.execPath, [BIN, 'simulate', '--tcp-listen', '0', '--interval-ms', '100', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = c;
  let out = '';
  c.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  c.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const t = setInterval(() => {
      const m = /listening on [^\s]+:(\d+)/.exec(out);
      if (m) {
        clearInterval(t);
        resolve(Number(m[1]));
      } else if (c.exitCode !== null) {
        clearInterval(t);
        reject(new Error(`simulate exited: ${out}`));
      }
    }, 20);
  });
  const message = await new Promise<string>((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    const framer = createMllpFramer();
    s.on('error', reject);
    s.on('data', (b: Buffer) =>
      framer.push(b, {
        frame: (f) => {
          const text = f.toString('utf8');
          if (!text.includes('ORU^R01')) return;
          s.destroy();
          resolve(text);
        },
        error: () => undefined,
      }),
    );
  });
  return { message, log: () => out };
}

const msh11 = (m: string): string => m.split('\r')[0]?.split('|')[10] ?? '';

describe('vitalwire simulate', () => {
  it('sends a synthetic patient marked as such: MSH-11 T and OBX-8 DEMO, by default', async () => {
    const { message, log } = await firstMessage([]);
    expect(msh11(message)).toBe('T');
    expect(
      message
        .split('\r')
        .filter((s) => s.startsWith('OBX|') && s.split('|')[2] === 'NM')
        .every((s) => s.split('|')[8] === 'DEMO'),
    ).toBe(true);
    expect(log()).not.toMatch(/as-real/);
  }, 30_000);

  it('--as-real drops the marks and warns in the log that the patient now looks real', async () => {
    const { message, log } = await firstMessage(['--as-real']);
    expect(msh11(message)).toBe('P');
    expect(message).not.toContain('DEMO');
    const warning = log()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: number; msg: string })
      .find((l) => /as-real/.test(l.msg));
    expect(warning?.level).toBe(40); // pino warn
    expect(warning?.msg).toMatch(/WITHOUT any simulator mark/);
  }, 30_000);

  it('says both in --help, and refuses --as-real with --demo', () => {
    const help = spawnSync(process.execPath, [BIN, 'simulate', '--help'], { encoding: 'utf8' });
    expect(help.stdout).toMatch(/MSH-11 processing id T/);
    expect(help.stdout).toMatch(/--as-real .*conformance tests only/);
    const both = spawnSync(process.execPath, [BIN, 'simulate', '--tcp-listen', '0', '--as-real', '--demo'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(both.status).toBe(2);
    expect(both.stderr).toMatch(/contradict/);
  }, 30_000);
});
