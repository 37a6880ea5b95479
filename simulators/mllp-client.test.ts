// The simulated HL7 sender behaves as monitors in the field (HL7 v2 original acknowledgement mode over MLLP): one
// message in flight, the next only after its ACK; AE resent, AR dropped (never resent unchanged), no ACK resent after
// the timeout with the same control id. Against a scripted MLLP peer, so each answer is the one the test chose.
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createMllpFramer, mllpWrap } from '../decoders/framing/mllp.js';
import { createMllpClient, readAck, type MllpClient } from './mllp-client.js';

const msg = (id: string) => mllpWrap(`MSH|^~\\&|SIM||||20260101||ORU^R01^ORU_R01|${id}|T|2.6\rPID|||\r`);
const ack = (code: string, id: string) =>
  mllpWrap(`MSH|^~\\&|GW||||20260101||ACK^R01^ACK|A${id}|T|2.6\rMSA|${code}|${id}\r`);

let server: Server | null = null;
let client: MllpClient<string> | null = null;
afterEach(async () => {
  client?.close();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
});

describe('MLLP sender', () => {
  it('waits for each ACK, resends on AE and on timeout, drops on AR', async () => {
    // Answers by control id and attempt: m1 AE then AA; m2 AR; m3 nothing, then AA on the resend; m4 AA.
    const script: Record<string, (string | null)[]> = { m1: ['AE', 'AA'], m2: ['AR'], m3: [null, 'AA'], m4: ['AA'] };
    const received: string[] = [];
    let unanswered: string | null = null; // a message the peer has not answered yet
    let overlap = 0;
    server = createServer((s) => {
      const f = createMllpFramer();
      s.on('data', (b: Buffer) =>
        f.push(b, {
          frame: (fr) => {
            const id = fr.toString('latin1').split('\r')[0]!.split('|')[9]!;
            received.push(id);
            // Another message while one is unanswered: the sender did not wait (a resend of the same id is fine).
            if (unanswered !== null && unanswered !== id) overlap++;
            const code = script[id]?.shift();
            if (code) {
              unanswered = null;
              s.write(ack(code, id));
            } else unanswered = id; // swallowed: the sender must time out and resend
          },
          error: () => undefined,
        }),
      );
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const acked: string[] = [];
    const rejected: string[] = [];
    client = createMllpClient<string>(
      { port, ackTimeoutMs: 300, retryMs: 50 },
      { acked: (m) => void acked.push(m.meta), rejected: (m) => void rejected.push(m.meta) },
    );
    for (const id of ['m1', 'm2', 'm3', 'm4']) client.send({ bytes: msg(id), controlId: id, meta: id });
    expect(await client.drain(5000)).toBe(true);
    expect(received).toEqual(['m1', 'm1', 'm2', 'm3', 'm3', 'm4']);
    expect(overlap).toBe(0);
    expect(acked).toEqual(['m1', 'm3', 'm4']);
    expect(rejected).toEqual(['m2']);
    expect(client.counters).toMatchObject({ sent: 4, resent: 2, acked: 3, errors: 1, rejected: 1, timeouts: 1 });
  });

  it('reads MSA-1 and MSA-2, whatever the field separator', () => {
    expect(readAck(Buffer.from('MSH#^~\\&#GW\rMSA#AE#c42^x\r'))).toEqual({ code: 'AE', controlId: 'c42' });
    expect(readAck(Buffer.from('MSH|^~\\&|GW\r'))).toBeNull();
  });
});
