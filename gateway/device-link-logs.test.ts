// Issue 14: every bad frame on a device link was logged (16.5 MB in 16 s from one garbled line). On a real TCP link:
// a device that sends a flood of rejected frames costs two log lines per interval, and the counters count every frame.
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { mllpWrap } from '../decoders/framing/mllp.js';
import { getProtocol } from '../decoders/registry.js';
import { createLogger } from '../lib/log.js';
import { openTcpSink, type Sink } from '../simulators/sinks.js';
import { startDeviceLink, type DeviceLink } from './device-link.js';
import { openTcpLink } from './transports/tcp.js';

let sink: Sink | null = null;
let link: DeviceLink | null = null;
afterEach(async () => {
  await link?.stop();
  await sink?.close();
});

async function until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('device link: a flood of bad frames', () => {
  it('logs the first rejected frame of each kind, then their number, and counts every one', async () => {
    const lines: { msg: string; err?: string; code?: string; suppressed?: number }[] = [];
    const out = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as { msg: string });
        cb();
      },
    });
    const logger = createLogger('test', 'debug', out);
    const s = (sink = await openTcpSink('127.0.0.1', 0));
    let up = false;
    link = startDeviceLink({
      id: 'mon1',
      protocol: getProtocol('hl7')!,
      logger,
      open: (h) => openTcpLink({ host: '127.0.0.1', port: s.port ?? 0 }, h),
      events: { decoded: () => undefined, state: (st) => (up = st === 'connected') },
    });
    await until(() => up, 'link up');
    // An HL7 message type vitalwire does not decode: each frame is rejected (VW_ERR_HL7_UNSUPPORTED_MESSAGE).
    const bad = mllpWrap('MSH|^~\\&|X||||20260601||ADT^A01|ADT1|P|2.6\r');
    s.write(Buffer.concat(Array.from({ length: 2000 }, () => bad)));
    const l = link;
    await until(() => l.counters.badFrames === 2000, '2000 rejected frames counted');
    expect(l.counters.errors.VW_ERR_HL7_UNSUPPORTED_MESSAGE).toBe(2000);
    const rejected = () => lines.filter((x) => x.msg.startsWith('frame rejected'));
    expect(rejected()).toHaveLength(1);
    await l.stop();
    link = null;
    // Stopping reports the rest: 1 line + the count of the other 1999.
    expect(rejected().map((x) => x.suppressed ?? 0)).toEqual([0, 1999]);
  });
});
