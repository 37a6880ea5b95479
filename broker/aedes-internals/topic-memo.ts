// Topic matches remembered between subscription changes. Every QoS 1 message costs Aedes two trie walks of its topic:
// mqemitter's routing to the subscribers' listeners, and the persistence's `subscriptionsByTopic` for the offline
// queues. A gateway publishes on a handful of topics and subscriptions change when clients come and go, so the same
// topic is matched again thousands of times between two changes (6 % of the broker's profile at 10,000 msgs/s,
// docs/broker.md "Profile on one core"). A match is remembered per exact topic and forgotten on any change to the
// subscriptions; the callers only read the arrays they get, so sharing one between calls is invisible to them.

import { boundedMemo } from '../../lib/bounded-memo.js';

/** Topics remembered before the memo starts again: bounds its memory whatever the publishers send. */
export const TOPICS_REMEMBERED = 16_384;

interface Matcher {
  match(topic: string): unknown;
  add(...args: unknown[]): unknown;
  remove(...args: unknown[]): unknown;
  clear?(): unknown;
}

function isMatcher(m: unknown): m is Matcher {
  const o = m as Partial<Record<keyof Matcher, unknown>> | null;
  return !!o && typeof o.match === 'function' && typeof o.add === 'function' && typeof o.remove === 'function';
}

/** Wraps a Qlobber in place: match() remembered per topic, forgotten by add(), remove() and clear(). */
function memoizeMatcher(m: Matcher): void {
  const memo = boundedMemo(TOPICS_REMEMBERED, m.match.bind(m));
  const add = m.add.bind(m);
  const remove = m.remove.bind(m);
  m.match = (topic: string) => memo.get(topic);
  m.add = (...args: unknown[]) => {
    memo.clear();
    return add(...args);
  };
  m.remove = (...args: unknown[]) => {
    memo.clear();
    return remove(...args);
  };
  if (typeof m.clear === 'function') {
    const clear = m.clear.bind(m);
    m.clear = () => {
      memo.clear();
      return clear();
    };
  }
}

/**
 * The broker's routing: its mqemitter's private `_matcher` (a Qlobber; mqemitter 7 adds a listener with `_matcher.add` in `on()`
 * and removes it with `_matcher.remove` one immediate after `removeListener()`). Returns false, changing nothing, for an
 * emitter without one (the cluster's Redis emitter routes on its own).
 */
export function memoizeRouting(broker: object): boolean {
  // Aedes keeps its emitter as `broker.mq` (untyped), mqemitter its matcher as `_matcher`.
  const m = (broker as { mq?: { _matcher?: unknown } }).mq?._matcher;
  if (!isMatcher(m)) return false;
  memoizeMatcher(m);
  return true;
}

interface OfflineLookup {
  subscriptionsByTopic(topic: string): Promise<unknown>;
  addSubscriptions(...args: unknown[]): Promise<unknown>;
  removeSubscriptions(...args: unknown[]): Promise<unknown>;
  cleanSubscriptions(...args: unknown[]): Promise<unknown>;
}

/** What the remembered offline lookup already knows of a topic. */
export interface OfflineLookupMemo {
  /**
   * The persistent subscriptions matching `topic` once its lookup has settled; undefined until then (the lookup is
   * started here if it was not yet).
   */
  known(topic: string): readonly unknown[] | undefined;
}

/**
 * The in-memory persistence's `subscriptionsByTopic` (aedes-persistence 11: its trie changes synchronously inside the
 * three calls below, before their promises settle). Only for a persistence that sees every change through those
 * calls: never one shared between brokers, whose trie other brokers change.
 */
export function memoizeOfflineLookup(persistence: object): OfflineLookupMemo {
  const p = persistence as OfflineLookup;
  const lookup = p.subscriptionsByTopic.bind(p);
  interface Entry {
    readonly lookup: Promise<unknown>;
    subs: readonly unknown[] | undefined;
  }
  const memo = boundedMemo(TOPICS_REMEMBERED, (topic: string): Entry => {
    const entry: Entry = { lookup: lookup(topic), subs: undefined };
    entry.lookup.then(
      (subs) => {
        if (Array.isArray(subs)) entry.subs = subs;
      },
      // A failed lookup is not remembered: the next message asks again.
      () => {
        if (memo.peek(topic) === entry) memo.delete(topic);
      },
    );
    return entry;
  });
  for (const name of ['addSubscriptions', 'removeSubscriptions', 'cleanSubscriptions'] as const) {
    const original = p[name].bind(p);
    p[name] = (...args: unknown[]) => {
      memo.clear();
      return original(...args);
    };
  }
  p.subscriptionsByTopic = (topic: string) => memo.get(topic).lookup;
  return { known: (topic) => memo.get(topic).subs };
}
