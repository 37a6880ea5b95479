// The chaos rig's broker comes back at its own port, as a real one does. Tests run in parallel and open sockets all the
// time: while the broker was down its port was free for any of them to take, and the restart failed with EADDRINUSE
// (seen in test/sim-mllp-gateway.test.ts under the full suite).
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { Rig } from './harness.js';

describe('the chaos rig', () => {
  const rig = new Rig('rig-port');
  afterAll(() => rig.close());

  it('keeps its port while the broker is down, and restarts on it', async () => {
    await rig.startBroker();
    const port = rig.port;
    await rig.stopBroker();
    const intruder = createServer();
    const bound = await new Promise<string>((resolve) => {
      intruder.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      intruder.listen(port, '127.0.0.1', () => resolve('bound'));
    });
    if (bound === 'bound') await new Promise((r) => intruder.close(r));
    expect(bound).toBe('EADDRINUSE');
    await rig.startBroker();
    expect(rig.port).toBe(port);
  });
});
