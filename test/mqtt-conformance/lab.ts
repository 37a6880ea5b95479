// The MQTT 3.1.1 conformance suite runs against the lab listener as a user starts it, `vitalwire central --lab --port
// 0`: a real child process, plain TCP on loopback, no authentication. Each suite file starts its own. Not a test file.
import { afterAll, beforeAll } from 'vitest';
import { startCentralProcess } from '../../broker/test-kit.js';
import { RawClient, type ConnectFields, type RawOptions } from '../mqtt-raw.js';

export interface Lab {
  readonly port: number;
  /** A fresh topic root, so retained messages of one test never meet another's. */
  root(): string;
  /** Connects (CONNECT accepted with return code 0 asserted by the caller when it matters). */
  connect(fields: ConnectFields, o?: RawOptions): ReturnType<typeof RawClient.connected>;
  open(o?: RawOptions): Promise<RawClient>;
}

export function useLab(): Lab {
  let proc: Awaited<ReturnType<typeof startCentralProcess>> | null = null;
  const clients: RawClient[] = [];
  let n = 0;
  beforeAll(async () => {
    proc = await startCentralProcess(['--lab', '--port', '0']);
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await proc?.stop();
  });
  const port = (): number => {
    if (!proc) throw new Error('the lab listener is not running');
    return proc.port;
  };
  return {
    get port() {
      return port();
    },
    root: () => `t${++n}-${process.pid}`,
    async connect(fields, o) {
      const r = await RawClient.connected(port(), fields, o);
      clients.push(r.c);
      return r;
    },
    async open(o) {
      const c = await RawClient.open(port(), o);
      clients.push(c);
      return c;
    },
  };
}
