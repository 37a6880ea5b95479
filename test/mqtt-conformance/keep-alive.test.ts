// MQTT 3.1.1 conformance, Keep Alive (3.1.2.10), on the lab listener. Bounds are asserted one way only where load
// could delay the server: it must not close early (checked at 1.1 x), and must have closed by 1.5 x plus slack.
import { describe, expect, it } from 'vitest';
import { connectBytes, sleep } from '../mqtt-raw.js';
import { useLab } from './lab.js';

const lab = useLab();
const SLACK_MS = 3000; // a loaded machine may run the server's timer late; never early

describe('keep-alive', () => {
  it('[MQTT-3.1.2-24] a client silent for one and a half times its keep-alive is disconnected, and not before its keep-alive', async () => {
    const { c, connack } = await lab.connect({ clientId: 'silent', keepalive: 2 });
    expect(connack).toMatchObject({ returnCode: 0 });
    const t0 = Date.now();
    await sleep(2200);
    expect(c.closed).toBe(false);
    await c.gone(3000 - (Date.now() - t0) + SLACK_MS);
  });

  it('[MQTT-3.1.2-24] any control packet restarts the keep-alive period', async () => {
    const { c } = await lab.connect({ clientId: 'chatty', keepalive: 1 });
    for (let i = 0; i < 5; i++) {
      await sleep(700);
      await c.ping();
    }
    expect(c.closed).toBe(false);
  });

  it('3.1.2.10: keep-alive 0 turns the mechanism off: accepted, and a silent client stays connected', async () => {
    const c = await lab.open();
    c.send(connectBytes({ flags: 0x02, keepalive: 0, clientId: 'no-keepalive' }));
    expect(await c.next('connack')).toMatchObject({ returnCode: 0 });
    await sleep(2500);
    expect(c.closed).toBe(false);
    await c.ping();
  });

  it('3.1.2.10: the largest keep-alive, 65535 s (18 h 12 min 15 s), is accepted', async () => {
    const c = await lab.open();
    c.send(connectBytes({ flags: 0x02, keepalive: 65535, clientId: 'max-keepalive' }));
    expect(await c.next('connack')).toMatchObject({ returnCode: 0 });
  });

  it('[MQTT-3.1.2-24] [MQTT-3.1.2-8] a keep-alive timeout is a network failure: the Will is published', async () => {
    const r = lab.root();
    const { c: s } = await lab.connect({ clientId: 'ka-will-sub' });
    s.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: `${r}/will`, qos: 1 }] });
    await s.next('suback');
    await lab.connect({
      clientId: 'ka-will',
      keepalive: 1,
      will: { topic: `${r}/will`, payload: Buffer.from('timed out'), qos: 1, retain: false },
    });
    const will = await s.next('publish', 1500 + SLACK_MS + 1000);
    expect(Buffer.from(will.payload).toString()).toBe('timed out');
  });
});
