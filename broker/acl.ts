// Topic ACLs for the central broker. Pure functions: an identity and a topic in, a decision out.
// Deny by default: every rule below names what is allowed; anything else is refused.
import { TOPIC_ROOT, isValidSegment, parseStreamTopic } from '../lib/topics.js';
import type { User } from './users.js';

export type Identity =
  | { kind: 'gateway'; site: string; gateway: string }
  | { kind: 'user'; name: string; role: User['role']; sites: string[] }
  | { kind: 'internal' }
  // The conformance listener (`central --lab`): no authentication, no topic ACL, loopback only.
  | { kind: 'lab'; clientId: string };

export const ALL_SITES = '*';
const MAX_TOPIC_CHARS = 1024; // our topics are < 300 characters; anything longer is not ours

/** A human-readable name for logs: ids only, never payloads. */
export function describeIdentity(id: Identity): string {
  switch (id.kind) {
    case 'gateway':
      return `gateway ${id.site}/${id.gateway}`;
    case 'user':
      return `user ${id.name} (${id.role})`;
    case 'internal':
      return 'internal';
    case 'lab':
      return `lab client ${id.clientId}`;
  }
}

/**
 * A syntactically valid PUBLISH topic name: non-empty, no wildcards, no U+0000.
 * [MQTT-3.3.2-2] wildcards are not allowed in a topic name; [MQTT-1.5.3-2] no null character.
 */
export function isValidTopicName(topic: string): boolean {
  return topic.length > 0 && topic.length <= MAX_TOPIC_CHARS && !/[+#\u0000]/.test(topic);
}

/**
 * A syntactically valid SUBSCRIBE topic filter. [MQTT-4.7.1-1] '#' only as the whole last level;
 * [MQTT-4.7.1-2] '+' only as a whole level; [MQTT-4.7.3-1] non-empty; [MQTT-1.5.3-2] no U+0000.
 */
export function isValidTopicFilter(filter: string): boolean {
  if (filter.length === 0 || filter.length > MAX_TOPIC_CHARS || filter.includes('\u0000')) return false;
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i] ?? '';
    if (l === '#') {
      if (i !== levels.length - 1) return false;
    } else if (l === '+') {
      continue;
    } else if (l.includes('#') || l.includes('+')) {
      return false;
    }
  }
  return true;
}

export function canPublish(id: Identity, topic: string): boolean {
  if (!isValidTopicName(topic)) return false;
  switch (id.kind) {
    case 'internal':
      return true;
    case 'gateway': {
      // A gateway publishes its own streams only: vw/v1/<its site>/<its gateway>/<device>/<kind>.
      const t = parseStreamTopic(topic);
      return t !== null && t.site === id.site && t.gateway === id.gateway;
    }
    case 'user':
      // Observers and services never publish. Admins (operators) may send commands to the gateways of their sites:
      // vw/v1/<site>/<gateway>/cmd/<name>[/...], every level literal.
      return id.role === 'admin' && isCommandTopic(topic, id.sites);
    case 'lab':
      // [MQTT-4.7.2-1] context: '$' topics are the broker's; Aedes refuses client publishes to $SYS by default too.
      return !topic.startsWith('$');
  }
}

/** vw/v1/<site>/<gateway>/cmd/<name>[/...] with a site the caller may reach ('*' reaches all). */
export function isCommandTopic(topic: string, sites: readonly string[]): boolean {
  const l = topic.split('/');
  if (l.length < 6 || l[0] !== 'vw' || l[1] !== 'v1' || l[4] !== 'cmd') return false;
  if (!l.slice(2).every((s, i) => i === 2 || isValidSegment(s))) return false;
  const site = l[2] ?? '';
  return sites.includes(ALL_SITES) || sites.includes(site);
}

export function canSubscribe(id: Identity, filter: string): boolean {
  if (!isValidTopicFilter(filter)) return false;
  const levels = filter.split('/');
  switch (id.kind) {
    case 'internal':
    case 'lab':
      return true;
    case 'gateway':
      // Anything below its own prefix vw/v1/<site>/<gateway>/: its command topics, and its own streams read back
      // (`vitalwire watch` with the gateway's certificate shows what it published). Site and gateway must be
      // literal, so no filter can reach another gateway's topics.
      return levels.length >= 5 && levels[0] === 'vw' && levels[1] === 'v1' && levels[2] === id.site &&
        levels[3] === id.gateway;
    case 'user': {
      if (filter.startsWith('$')) {
        // $SYS carries client ids and broker internals: admins only. Other $-topics ($share...) are not offered.
        return id.role === 'admin' && (filter === '$SYS/#' || filter.startsWith('$SYS/'));
      }
      if (!filter.startsWith(`${TOPIC_ROOT}/`)) return false;
      if (id.sites.includes(ALL_SITES)) return true;
      // A scoped user names one of its sites literally: vw/v1/<site>/..., never '+' or '#' in the site level.
      const site = levels[2];
      return site !== undefined && isValidSegment(site) && id.sites.includes(site);
    }
  }
}
