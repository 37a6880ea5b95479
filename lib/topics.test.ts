import { describe, expect, it } from 'vitest';
import { commandFilter, commandTopic, parseCommandTopic, parseStreamTopic, streamTopic } from './topics.js';

describe('topics', () => {
  it('builds and parses vw/v1/<site>/<gateway>/<device>/<kind>', () => {
    const t = streamTopic('bv-soc-son', 'gw1', '0123456789ABCDEF', 'obs');
    expect(t).toBe('vw/v1/bv-soc-son/gw1/0123456789ABCDEF/obs');
    expect(parseStreamTopic(t)).toEqual({
      site: 'bv-soc-son',
      gateway: 'gw1',
      device: '0123456789ABCDEF',
      kind: 'obs',
    });
  });

  it('refuses segments that would widen a subscription or break the tree', () => {
    for (const s of ['#', '+', 'a/b', '', 'x'.repeat(65), 'a b']) {
      expect(() => streamTopic(s, 'gw', 'd', 'obs'), s).toThrow(TypeError);
    }
    for (const t of ['vw/v1/a/b/c', 'vw/v2/a/b/c/obs', 'vw/v1/a/b/c/other', 'vw/v1/+/b/c/obs', 'vw/v1/a/b/c/obs/x']) {
      expect(parseStreamTopic(t), t).toBeNull();
    }
  });

  it('builds and parses commands under their own root, never under the stream root', () => {
    expect(commandTopic('s1', 'gw1', 'set/rate')).toBe('vwcmd/v1/s1/gw1/set/rate');
    expect(commandFilter('s1', 'gw1')).toBe('vwcmd/v1/s1/gw1/#');
    expect(parseCommandTopic('vwcmd/v1/s1/gw1/identify')).toEqual({ site: 's1', gateway: 'gw1', command: 'identify' });
    for (const t of [
      'vwcmd/v1/s1/gw1',
      'vwcmd/v2/s1/gw1/x',
      'vw/v1/s1/gw1/cmd/x',
      'vwcmd/v1/s1/gw1/+',
      'vwcmd/v1/s1/gw1/a/b/c/d/e',
      'vwcmd/v1/s1//x',
    ]) {
      expect(parseCommandTopic(t), t).toBeNull();
    }
    for (const bad of ['', 'a//b', '#', 'a/b/c/d/e'])
      expect(() => commandTopic('s1', 'gw1', bad), bad).toThrow(TypeError);
    expect(() => commandFilter('+', 'gw1')).toThrow(TypeError);
  });
});
