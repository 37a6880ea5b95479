// The vitalwire executable as a user runs it: help for every command, usage errors, and a demo
// that starts, serves, and stops cleanly on SIGTERM without leaving socat behind.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { socatAvailable } from '../simulators/pty.js';

const BIN = join(import.meta.dirname, '..', 'bin', 'vitalwire');

function run(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 20_000 });
}

describe('vitalwire CLI', () => {
  it('lists its commands and prints --help for each', () => {
    const top = run(['--help']);
    expect(top.status).toBe(0);
    for (const cmd of [
      'demo',
      'central',
      'gateway',
      'simulate',
      'replay',
      'decode',
      'watch',
      'export',
      'bind',
      'ca',
      'gateways',
      'users',
      'audit',
    ]) {
      expect(top.stdout).toContain(`  ${cmd} `);
      const h = run([cmd, '--help']);
      expect(h.status, cmd).toBe(0);
      expect(h.stdout, cmd).toContain(`Usage: vitalwire ${cmd}`);
      expect(h.stdout, cmd).toContain('--help');
    }
  }, 120_000); // a dozen process starts: slow on a loaded machine

  it('prints its version, from package.json', async () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as {
      version: string;
    };
    const v = run(['--version']);
    expect(v.status).toBe(0);
    expect(v.stdout).toMatch(new RegExp(`^vitalwire ${pkg.version.replace(/\./g, '\\.')} \\(node v\\d+`));
  });

  it('runs compiled JavaScript from dist/, never a TypeScript loader', () => {
    // With every .ts module and tsx forbidden at resolve time (test/forbid-typescript.mjs), the command still runs.
    // Nonin format 8 (protocols.md): STATUS1 0x80 (HR bits 8-7 = 0), HR_LSB 72, SpO2 97.
    const forbid = join(import.meta.dirname, 'forbid-typescript.mjs');
    const ok = spawnSync(process.execPath, ['--import', forbid, BIN, 'decode', '--format', 'nonin8', '-'], {
      encoding: 'utf8',
      input: Buffer.from([0x80, 72, 97, 0]),
      timeout: 20_000,
    });
    expect(ok.stderr).toBe('');
    expect(JSON.parse(ok.stdout.split('\n')[0] ?? '')).toMatchObject({
      kind: 'obs',
      refid: 'MDC_PULS_OXIM_PULS_RATE',
      value: 72,
    });
    // The hook does catch a TypeScript load: the same check on the TypeScript entry fails.
    const ts = spawnSync(
      process.execPath,
      ['--import', forbid, '--import', 'tsx', join(import.meta.dirname, '..', 'cli', 'main.ts')],
      { encoding: 'utf8', timeout: 20_000 },
    );
    expect(ts.status).not.toBe(0);
    expect(ts.stderr).toContain('TypeScript loaded at run time');
  });

  it('decode: exit status 0 when every frame decoded, 2 when some failed, 1 when none did', () => {
    const decode = (input: Buffer) =>
      spawnSync(process.execPath, [BIN, 'decode', '--format', 'nonin8', '-'], {
        encoding: 'utf8',
        input,
        timeout: 20_000,
      });
    // Nonin format 8 (protocols.md): 4-byte frames STATUS1 (bit 7 set), HR_LSB, SpO2, STATUS2.
    const good = Buffer.from([0x80, 72, 97, 0]);
    expect(decode(good).status).toBe(0);
    const mixed = decode(Buffer.concat([good, Buffer.from([0x13, 0x37, 0x00]), good]));
    expect(mixed.status).toBe(2);
    expect(mixed.stdout).toContain('"kind":"error"');
    const none = decode(Buffer.from('this is not a pulse oximeter\n'));
    expect(none.status).toBe(1);
    expect(none.stdout).toContain('"kind":"error"');
  });

  it('exits 2 with a clear message on usage errors', () => {
    const unknown = run(['frobnicate']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    const badFlag = run(['demo', '--beds', 'many']);
    expect(badFlag.status).toBe(2);
    expect(badFlag.stderr).toContain('--beds must be an integer');
    const noDevice = run([
      'gateway',
      '--broker',
      'mqtts://x',
      '--site',
      's',
      '--gateway',
      'g',
      '--ca',
      'a',
      '--cert',
      'b',
      '--key',
      'c',
    ]);
    expect(noDevice.status).toBe(2);
    expect(noDevice.stderr).toContain('at least one --device');
  });

  it('runs the demo, prints where to look, serves the dashboard, and stops cleanly on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vw-cli-'));
    try {
      const child = spawn(process.execPath, [BIN, 'demo', '--http-port', '0', '--mqtt-port', '0', '--data-dir', dir], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const deadline = Date.now() + 20_000;
      while (!out.includes('Press Ctrl-C')) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`demo did not start: ${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const url = /Dashboard: +(\S+)/.exec(out)?.[1] ?? '';
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/); // the login page
      expect(out).toMatch(/MQTT \(TLS\): mqtts:\/\/127\.0\.0\.1:\d+/);
      expect(out).toContain(join(dir, 'tls', 'ca.crt'));
      expect(out).toContain('demo / demo');
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<html');
      // The printed login works: demo / demo gets a session token scoped to every site.
      const login = await fetch(new URL('/api/login', url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user: 'demo', password: 'demo' }),
      });
      expect(login.status).toBe(200);
      expect(await login.json()).toMatchObject({ user: 'demo', role: 'observer', scope: ['*'] });
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      if (socatAvailable()) {
        // No socat of this demo may survive it: they are the pty pairs under its data dir.
        const ps = spawnSync('pgrep', ['-f', `socat.*${dir}`], { encoding: 'utf8' });
        expect(ps.stdout.trim()).toBe('');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
