// bin/vitalwire run as a command, as systemd and the container run it: its launcher picks Node's flags for the CPUs
// the process may use, then replaces itself with node (one process: the pid systemd watches is the central's).
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { startCentralProcess } from '../broker/test-kit.js';

const cmdline = (pid: number): string[] => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');

describe('the launcher', () => {
  let stop: (() => Promise<void>) | null = null;
  afterEach(async () => {
    await stop?.();
    stop = null;
  });

  it('runs the central with a single-threaded garbage collector when it may use one CPU', async () => {
    const c = await startCentralProcess(['--lab', '--port', '0'], [], process.env, '0');
    stop = c.stop;
    expect(c.out()).toContain('central: garbage collector single-threaded\n');
    const argv = cmdline(c.child.pid ?? 0);
    expect(argv[0]).toMatch(/node$/);
    expect(argv).toContain('--single-threaded-gc');
  });

  it('leaves the collector parallel on more CPUs, and passes VW_NODE_FLAGS on to node', async () => {
    const c = await startCentralProcess(['--lab', '--port', '0'], ['--stack-trace-limit=13']);
    stop = c.stop;
    const cpus = availableParallelism();
    const argv = cmdline(c.child.pid ?? 0);
    expect(argv).toContain('--stack-trace-limit=13');
    if (cpus > 1) {
      expect(c.out()).toContain(`central: garbage collector parallel (${cpus} CPUs)\n`);
      expect(argv).not.toContain('--single-threaded-gc');
    } else {
      // A one-CPU machine: the launcher has no second CPU to leave the collector's threads to.
      expect(c.out()).toContain('central: garbage collector single-threaded\n');
    }
  });
});
