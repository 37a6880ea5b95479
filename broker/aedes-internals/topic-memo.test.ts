// The remembered topic matches against the real mqemitter and in-memory persistence Aedes uses: every subscription
// change must be seen at once, or a new subscriber misses messages and a gone one keeps getting them.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { memoizeOfflineLookup, memoizeRouting, TOPICS_REMEMBERED } from './topic-memo.js';

const require = createRequire(import.meta.url);
type Emitter = {
  on(topic: string, fn: (m: unknown, cb: () => void) => void, done?: () => void): void;
  removeListener(topic: string, fn: (m: unknown, cb: () => void) => void, done?: () => void): void;
  emit(m: { topic: string }, cb?: () => void): void;
};
const mqemitter = require('mqemitter') as () => Emitter;
type Sub = { clientId: string; topic: string; qos: number };
type Persistence = {
  setup(broker: object): Promise<void>;
  addSubscriptions(client: { id: string }, subs: { topic: string; qos: number }[]): Promise<void>;
  removeSubscriptions(client: { id: string }, topics: string[]): Promise<void>;
  cleanSubscriptions(client: { id: string }): Promise<void>;
  subscriptionsByTopic(topic: string): Promise<Sub[]>;
};
const memoryPersistence = require('aedes-persistence') as () => Persistence;

const turn = () => new Promise((r) => setImmediate(r));

describe('remembered routing (mqemitter)', () => {
  it('sees a listener added or removed at once, and routes as before', async () => {
    const mq = mqemitter();
    expect(memoizeRouting({ mq })).toBe(true);
    const got: string[] = [];
    const a = (_m: unknown, cb: () => void) => (got.push('a'), cb());
    const b = (_m: unknown, cb: () => void) => (got.push('b'), cb());
    const emit = async (topic: string) => {
      got.length = 0;
      await new Promise<void>((r) => mq.emit({ topic }, () => r()));
      return [...got].sort();
    };
    mq.on('vw/v1/+/+/+/obs', a);
    expect(await emit('vw/v1/s/g/d/obs')).toEqual(['a']);
    expect(await emit('vw/v1/s/g/d/obs')).toEqual(['a']); // remembered
    mq.on('vw/v1/#', b);
    expect(await emit('vw/v1/s/g/d/obs')).toEqual(['a', 'b']);
    expect(await emit('vw/v1/s/g/d/wave')).toEqual(['b']);
    mq.removeListener('vw/v1/+/+/+/obs', a);
    await turn(); // mqemitter removes one immediate later
    expect(await emit('vw/v1/s/g/d/obs')).toEqual(['b']);
  });

  it('answers right past the number of topics it remembers', async () => {
    const mq = mqemitter();
    memoizeRouting({ mq });
    let n = 0;
    mq.on('t/+', (_m, cb) => (n++, cb()));
    for (let i = 0; i < TOPICS_REMEMBERED + 100; i++) mq.emit({ topic: `t/${i}` });
    mq.emit({ topic: 'u/0' });
    await turn();
    expect(n).toBe(TOPICS_REMEMBERED + 100);
  });

  it('leaves an emitter without a matcher alone', () => {
    expect(memoizeRouting({ mq: { emit() {} } })).toBe(false);
    expect(memoizeRouting({})).toBe(false);
  });
});

describe('remembered offline lookups (in-memory persistence)', () => {
  it('sees subscriptions added, removed and cleaned at once', async () => {
    const p = memoryPersistence();
    await p.setup({ id: 'b1' });
    memoizeOfflineLookup(p);
    const ids = async (topic: string) => (await p.subscriptionsByTopic(topic)).map((s) => s.clientId).sort();
    expect(await ids('cmd/x')).toEqual([]);
    await p.addSubscriptions({ id: 'c1' }, [{ topic: 'cmd/+', qos: 1 }]);
    expect(await ids('cmd/x')).toEqual(['c1']);
    expect(await ids('cmd/x')).toEqual(['c1']); // remembered
    await p.addSubscriptions({ id: 'c2' }, [{ topic: 'cmd/#', qos: 1 }]);
    expect(await ids('cmd/x')).toEqual(['c1', 'c2']);
    await p.removeSubscriptions({ id: 'c1' }, ['cmd/+']);
    expect(await ids('cmd/x')).toEqual(['c2']);
    await p.cleanSubscriptions({ id: 'c2' });
    expect(await ids('cmd/x')).toEqual([]);
  });

  it('sees a change made while a lookup of the same topic is still pending', async () => {
    const p = memoryPersistence();
    await p.setup({ id: 'b1' });
    memoizeOfflineLookup(p);
    const before = p.subscriptionsByTopic('cmd/x'); // not awaited: the add below lands before it settles
    const added = p.addSubscriptions({ id: 'c1' }, [{ topic: 'cmd/x', qos: 1 }]);
    expect(await before).toEqual([]);
    await added;
    expect((await p.subscriptionsByTopic('cmd/x')).map((s) => s.clientId)).toEqual(['c1']);
  });
});
