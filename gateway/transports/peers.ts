// Allowed peers of a listening device link: IP addresses and CIDR ranges, IPv4 and IPv6. An IPv4 peer that arrives
// as an IPv4-mapped IPv6 address (::ffff:10.0.0.5, a dual-stack socket) matches its IPv4 rule.
import { isIP } from 'node:net';

export interface PeerRule {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
  readonly prefix: number;
}

function v4(s: string): Uint8Array {
  return Uint8Array.from(s.split('.').map(Number));
}

function v6(s: string): Uint8Array {
  // The address is valid (isIP said so): expand '::' and an embedded IPv4 tail into 16 bytes.
  let str = s;
  let tail: number[] = [];
  const lastColon = str.lastIndexOf(':');
  const last = str.slice(lastColon + 1);
  if (last.includes('.')) {
    const b = v4(last);
    tail = [((b[0] ?? 0) << 8) | (b[1] ?? 0), ((b[2] ?? 0) << 8) | (b[3] ?? 0)];
    str = str.slice(0, lastColon + 1);
    if (str.endsWith(':') && !str.endsWith('::')) str = str.slice(0, -1);
  }
  const words = (part: string): number[] => (part === '' ? [] : part.split(':').map((h) => parseInt(h, 16)));
  const dbl = str.indexOf('::');
  const left = dbl >= 0 ? words(str.slice(0, dbl)) : words(str);
  const right = dbl >= 0 ? words(str.slice(dbl + 2)) : [];
  const all = [
    ...left,
    ...Array<number>(Math.max(0, 8 - left.length - right.length - tail.length)).fill(0),
    ...right,
    ...tail,
  ];
  const out = new Uint8Array(16);
  all.slice(0, 8).forEach((w, i) => {
    out[2 * i] = (w >> 8) & 0xff;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

/** "10.0.0.5", "10.0.0.0/24", "fd00::/8", "::1" -> a rule; null when it is neither an address nor a range. */
export function parsePeer(spec: string): PeerRule | null {
  const [addr = '', bits, extra] = spec.trim().split('/');
  if (extra !== undefined) return null;
  const family = isIP(addr);
  if (family === 0) return null;
  const max = family === 4 ? 32 : 128;
  const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return null;
  return { family: family as 4 | 6, bytes: family === 4 ? v4(addr) : v6(addr), prefix };
}

function matches(rule: PeerRule, bytes: Uint8Array): boolean {
  let bits = rule.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((rule.bytes[i] ?? 0) & mask) !== ((bytes[i] ?? 0) & mask)) return false;
  }
  return true;
}

/** A matcher for a list of rules; an address that is not an IP never matches. */
export function peerMatcher(specs: readonly string[]): (address: string | undefined) => boolean {
  const rules = specs.map(parsePeer).filter((r): r is PeerRule => r !== null);
  return (address) => {
    if (!address) return false;
    let a = address;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
    if (mapped) a = mapped[1] ?? a;
    const family = isIP(a);
    if (family === 0) return false;
    const bytes = family === 4 ? v4(a) : v6(a);
    return rules.some((r) => r.family === family && matches(r, bytes));
  };
}
