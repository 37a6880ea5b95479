// Virtual serial cables: socat links two pseudo-terminals, so a simulator writes into one end
// and the gateway opens the other through serialport's real Linux binding.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface PtyPair {
  /** The device side: simulators write here. */
  device: string;
  /** The host side: the gateway opens this path. */
  host: string;
  readonly process: ChildProcess;
  close(): Promise<void>;
}

let socatChecked: boolean | undefined;

export function socatAvailable(): boolean {
  socatChecked ??= spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;
  return socatChecked;
}

export async function openPtyPair(dir: string, name: string, timeoutMs = 5000): Promise<PtyPair> {
  const device = join(dir, `${name}.device`);
  const host = join(dir, `${name}.host`);
  const child = spawn('socat', [`pty,raw,echo=0,link=${device}`, `pty,raw,echo=0,link=${host}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => {
    if (stderr.length < 4096) stderr += b.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  };
  const deadline = Date.now() + timeoutMs;
  while (!(existsSync(device) && existsSync(host))) {
    if (child.exitCode !== null) throw new Error(`socat exited (${child.exitCode}): ${stderr.trim()}`);
    if (Date.now() > deadline) {
      await close();
      throw new Error(`socat did not create ${device} and ${host} within ${timeoutMs} ms`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { device, host, process: child, close };
}
