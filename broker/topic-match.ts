// MQTT 3.1.1 4.7 topic matching, where the broker matches by itself: the QoS a delivery goes out at (slow-subscriber
// policy) and the '$' rule on every delivery path (hooks/authorize-forward.ts). Routing proper is Aedes' (mqemitter).

/** One filter against one topic name, MQTT 3.1.1 4.7. */
export function topicMatches(filter: string, topic: string): boolean {
  // [MQTT-4.7.2-1] a filter starting with a wildcard does not match a topic name starting with '$'.
  if (topic.charCodeAt(0) === DOLLAR && startsWithWildcard(filter)) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true; // [MQTT-4.7.1-2] '#' also matches the parent level: 'a/#' matches 'a'
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false; // '+' matches one level, even an empty one
  }
  return f.length === t.length;
}

const DOLLAR = 0x24;
const PLUS = 0x2b;
const HASH = 0x23;

export function isDollarTopic(topic: string): boolean {
  return topic.charCodeAt(0) === DOLLAR;
}

export function startsWithWildcard(filter: string): boolean {
  const c = filter.charCodeAt(0);
  return c === PLUS || c === HASH;
}

/** True when at least one of `filters` matches `topic`; the QoS of the best match is what a delivery may use. */
export function bestMatchQos(
  subscriptions: Readonly<Record<string, { readonly qos: number }>>,
  topic: string,
): number | null {
  let best: number | null = null;
  for (const filter in subscriptions) {
    const qos = subscriptions[filter]?.qos ?? 0;
    if ((best === null || qos > best) && topicMatches(filter, topic)) best = qos;
  }
  return best;
}
