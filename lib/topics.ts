// Topic scheme, versioned: vw/v1/<site>/<gateway>/<device>/<kind>. See docs/topics.md.
export const TOPIC_ROOT = 'vw/v1';
export const STREAM_KINDS = ['obs', 'wave', 'alarm', 'status'] as const;
export type StreamKind = (typeof STREAM_KINDS)[number];

// A segment must not contain MQTT wildcards or separators, and must be short and printable:
// ids come from devices and configuration, and a '#' or '/' in one would widen an ACL.
const SEGMENT = /^[A-Za-z0-9._:-]{1,64}$/;

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
