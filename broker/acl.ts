// Topic ACLs for the central broker. Pure functions: an identity and a topic in, a decision out.
// Deny by default: every rule below names what is allowed; anything else is refused.
import { TOPIC_ROOT, isValidSegment, parseCommandTopic, parseStreamTopic } from '../lib/topics.js';
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
 * A well-formed PUBLISH topic name: [MQTT-4.7.3-1] non-empty, [MQTT-4.7.1-1] [MQTT-3.3.2-2] no wildcards,
 * [MQTT-4.7.3-2] no U+0000.
 */
export function isWellFormedTopicName(topic: string): boolean {
  return topic.length > 0 && !/[+#\u0000]/.test(topic);
}

/** A well-formed topic name no longer than vitalwire's topics can be. */
export function isValidTopicName(topic: string): boolean {
  return topic.length <= MAX_TOPIC_CHARS && isWellFormedTopicName(topic);
}

/**
 * A well-formed SUBSCRIBE topic filter: [MQTT-4.7.1-2] '#' only as the whole last level; [MQTT-4.7.1-3] '+' only as a
 * whole level; [MQTT-4.7.3-1] non-empty; [MQTT-4.7.3-2] no U+0000. Anything else is a protocol violation.
 */
export function isWellFormedTopicFilter(filter: string): boolean {
  if (filter.length === 0 || filter.includes('\u0000')) return false;
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

/** A well-formed topic filter no longer than vitalwire's topics can be. */
export function isValidTopicFilter(filter: string): boolean {
  return filter.length <= MAX_TOPIC_CHARS && isWellFormedTopicFilter(filter);
}

export function canPublish(id: Identity, topic: string): boolean {
  // The lab listener takes any topic MQTT 3.1.1 allows, up to its 65,535 bytes [MQTT-4.7.3-3], except the server's
  // own $SYS/ (Aedes refuses client publishes there by default, 4.7.2). Other '$' topics carry client traffic, which
  // conformance suites send; [MQTT-4.7.2-1] keeps them from wildcard-first subscriptions (hooks/authorize-forward.ts).
  if (id.kind === 'lab') return isWellFormedTopicName(topic) && !topic.startsWith('$SYS/');
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
      // vwcmd/v1/<site>/<gateway>/<command>[/...], every level literal. Commands have a root of their own, so no
      // topic an admin may publish is a stream topic (lib/topics.ts; issue 14: `vw/v1/<site>/<gw>/cmd/obs` was both).
      return id.role === 'admin' && isCommandTopic(topic, id.sites);
  }
}

/** vwcmd/v1/<site>/<gateway>/<command>[/...] with a site the caller may reach ('*' reaches all). */
export function isCommandTopic(topic: string, sites: readonly string[]): boolean {
  const t = parseCommandTopic(topic);
  return t !== null && (sites.includes(ALL_SITES) || sites.includes(t.site));
}

export function canSubscribe(id: Identity, filter: string): boolean {
  if (id.kind === 'lab') return isWellFormedTopicFilter(filter);
  if (!isValidTopicFilter(filter)) return false;
  const levels = filter.split('/');
  switch (id.kind) {
    case 'internal':
      return true;
    case 'gateway':
      // Anything below its own command prefix vwcmd/v1/<site>/<gateway>/ (lib/topics.ts commandFilter), and below its
      // own stream prefix vw/v1/<site>/<gateway>/ (`vitalwire watch` with the gateway's certificate reads back what
      // it published). Site and gateway must be literal, so no filter can reach another gateway's topics.
      return (
        levels.length >= 5 &&
        (levels[0] === 'vw' || levels[0] === 'vwcmd') &&
        levels[1] === 'v1' &&
        levels[2] === id.site &&
        levels[3] === id.gateway
      );
    case 'user': {
      if (filter.startsWith('$')) {
        // $SYS carries every site's client ids (Aedes' new/clients, disconnect/clients...) and broker internals, with no
        // site in its topics to scope by: admins of all sites only (issue 14: a site-scoped admin saw every site's
        // clients). Other $-topics ($share...) are not offered.
        return (
          id.role === 'admin' && id.sites.includes(ALL_SITES) && (filter === '$SYS/#' || filter.startsWith('$SYS/'))
        );
      }
      // Streams only: commands (vwcmd/v1/...) are for the gateway they name.
      if (!filter.startsWith(`${TOPIC_ROOT}/`)) return false;
      if (id.sites.includes(ALL_SITES)) return true;
      // A scoped user names one of its sites literally: vw/v1/<site>/..., never '+' or '#' in the site level.
      const site = levels[2];
      return site !== undefined && isValidSegment(site) && id.sites.includes(site);
    }
  }
}
