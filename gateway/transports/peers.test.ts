import { describe, expect, it } from 'vitest';
import { parsePeer, peerMatcher } from './peers.js';

describe('allowed peers', () => {
  it('parses addresses and CIDR ranges, refuses anything else', () => {
    expect(parsePeer('10.0.0.5')?.prefix).toBe(32);
    expect(parsePeer('10.0.0.0/24')?.prefix).toBe(24);
    expect(parsePeer('fd00::/8')?.family).toBe(6);
    for (const bad of ['', 'host.example', '10.0.0.0/33', '10.0.0.0/x', '1.2.3.4/8/9', '::1/129'])
      expect(parsePeer(bad), bad).toBeNull();
  });

  it('matches IPv4 ranges, IPv4-mapped IPv6 peers and IPv6 ranges', () => {
    const ok = peerMatcher(['10.1.2.0/24', '127.0.0.1', 'fd00:1::/32', '::1']);
    expect(ok('10.1.2.77')).toBe(true);
    expect(ok('::ffff:10.1.2.77')).toBe(true);
    expect(ok('10.1.3.1')).toBe(false);
    expect(ok('127.0.0.1')).toBe(true);
    expect(ok('127.0.0.2')).toBe(false);
    expect(ok('fd00:1:ffff::9')).toBe(true);
    expect(ok('fd00:2::9')).toBe(false);
    expect(ok('::1')).toBe(true);
    expect(ok(undefined)).toBe(false);
    expect(peerMatcher(['0.0.0.0/0'])('192.168.1.1')).toBe(true);
    expect(peerMatcher(['::ffff:10.0.0.0/104'])('::ffff:10.9.9.9')).toBe(false); // mapped peers are matched as IPv4
  });
});
