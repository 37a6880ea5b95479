// The pid lock that keeps one writer per directory: taken, refused while its owner lives, taken over from a dead one.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { takeLock } from './pid-lock.js';

describe('takeLock', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vw-lock-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes our pid, and the release removes it once', async () => {
    const path = join(dir, 'a.lock');
    const r = await takeLock(path);
    expect(typeof r).toBe('function');
    expect(readFileSync(path, 'utf8').trim()).toBe(String(process.pid));
    await (r as () => Promise<void>)();
    await (r as () => Promise<void>)();
    expect(existsSync(path)).toBe(false);
  });

  it('names the live owner, after waiting at most waitMs', async () => {
    const path = join(dir, 'b.lock');
    writeFileSync(path, `${process.ppid}\n`); // the test runner's parent: alive, and not us
    const t0 = Date.now();
    expect(await takeLock(path, 100)).toEqual({ heldBy: process.ppid });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90);
  });

  it('takes over a lock whose owner is gone (SIGKILL, power loss)', async () => {
    const path = join(dir, 'c.lock');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(path, `${dead.stdout}\n`);
    const r = await takeLock(path);
    expect(typeof r).toBe('function');
    expect(readFileSync(path, 'utf8').trim()).toBe(String(process.pid));
  });
});
