// Topic layout, versioned: the one definition of it (docs/topics.md).
//   streams   vw/v1/<site>/<gateway>/<device>/<kind>          published by the gateway, read by dashboards and the archive
//   commands  vwcmd/v1/<site>/<gateway>/<command>[/...]       published by admins, read by that gateway only
// Commands have a root of their own so that no command topic can ever be read as a stream (issue 14: an admin's
// `vw/v1/<site>/<gw>/cmd/obs` was both an allowed command and a valid stream of device "cmd", and the fan-out showed
// it as a bed with values the sender chose).
export const TOPIC_ROOT = 'vw/v1';
export const COMMAND_ROOT = 'vwcmd/v1';
export const STREAM_KINDS = ['obs', 'wave', 'alarm', 'status'] as const;
export type StreamKind = (typeof STREAM_KINDS)[number];

// A segment must not contain MQTT wildcards or separators, and must be short and printable:
// ids come from devices and configuration, and a '#' or '/' in one would widen an ACL.
const SEGMENT = /^[A-Za-z0-9._:-]{1,64}$/;
/** Levels a command name may have below vwcmd/v1/<site>/<gateway>/. */
const MAX_COMMAND_LEVELS = 4;

export function isValidSegment(s: string): boolean {
  return SEGMENT.test(s);
}

export function streamTopic(site: string, gateway: string, device: string, kind: StreamKind): string {
  for (const s of [site, gateway, device]) {
    if (!SEGMENT.test(s)) throw new TypeError(`invalid topic segment ${JSON.stringify(s)}`);
  }
  return `${TOPIC_ROOT}/${site}/${gateway}/${device}/${kind}`;
}

export interface StreamTopic {
  site: string;
  gateway: string;
  device: string;
  kind: StreamKind;
}

export function parseStreamTopic(topic: string): StreamTopic | null {
  const p = topic.split('/');
  if (p.length !== 6 || p[0] !== 'vw' || p[1] !== 'v1') return null;
  const [, , site, gateway, device, kind] = p as [string, string, string, string, string, string];
  if (!SEGMENT.test(site) || !SEGMENT.test(gateway) || !SEGMENT.test(device)) return null;
  if (!(STREAM_KINDS as readonly string[]).includes(kind)) return null;
  return { site, gateway, device, kind: kind as StreamKind };
}

/** vwcmd/v1/<site>/<gateway>/<command>, where `command` is 1-4 segments joined by '/' (e.g. 'identify', 'set/rate'). */
export function commandTopic(site: string, gateway: string, command: string): string {
  const levels = command.split('/');
  for (const s of [site, gateway, ...levels]) {
    if (!SEGMENT.test(s)) throw new TypeError(`invalid topic segment ${JSON.stringify(s)}`);
  }
  if (levels.length > MAX_COMMAND_LEVELS)
    throw new TypeError(`command ${JSON.stringify(command)} has more than ${MAX_COMMAND_LEVELS} levels`);
  return `${COMMAND_ROOT}/${site}/${gateway}/${command}`;
}

/** What a gateway subscribes to for its commands: vwcmd/v1/<site>/<gateway>/#. */
export function commandFilter(site: string, gateway: string): string {
  for (const s of [site, gateway]) {
    if (!SEGMENT.test(s)) throw new TypeError(`invalid topic segment ${JSON.stringify(s)}`);
  }
  return `${COMMAND_ROOT}/${site}/${gateway}/#`;
}

export interface CommandTopic {
  site: string;
  gateway: string;
  /** The command's levels below the gateway, joined by '/'. */
  command: string;
}

export function parseCommandTopic(topic: string): CommandTopic | null {
  const p = topic.split('/');
  if (p.length < 5 || p.length > 4 + MAX_COMMAND_LEVELS || p[0] !== 'vwcmd' || p[1] !== 'v1') return null;
  for (let i = 2; i < p.length; i++) if (!SEGMENT.test(p[i] ?? '')) return null;
  return { site: p[2] as string, gateway: p[3] as string, command: p.slice(4).join('/') };
}
