// A TCP forwarder a test can close and open: the gateway's uplink goes through it to the broker, so a test decides
// when the broker is reachable (and cuts live connections) without restarting the broker and its subscribers.
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpGate {
  readonly port: number;
  /** Accept (and forward) new connections. */
  open(): void;
  /** Refuse new connections and cut the ones forwarded now. */
  close(): void;
  stop(): Promise<void>;
}

export async function startTcpGate(target: { host: string; port: number }, open = false): Promise<TcpGate> {
  let isOpen = open;
  const pairs = new Set<Socket>();
  const server: Server = createServer((inbound) => {
    if (!isOpen) {
      inbound.destroy();
      return;
    }
    const outbound = connect(target.port, target.host);
    pairs.add(inbound).add(outbound);
    const cut = () => {
      inbound.destroy();
      outbound.destroy();
      pairs.delete(inbound);
      pairs.delete(outbound);
    };
    inbound.on('error', cut).on('close', cut);
    outbound.on('error', cut).on('close', cut);
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr ? addr.port : 0,
    open: () => {
      isOpen = true;
    },
    close: () => {
      isOpen = false;
      for (const s of pairs) s.destroy();
      pairs.clear();
    },
    stop: () =>
      new Promise<void>((resolve) => {
        isOpen = false;
        for (const s of pairs) s.destroy();
        server.close(() => resolve());
      }),
  };
}
