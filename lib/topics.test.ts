import { describe, expect, it } from 'vitest';
import { parseStreamTopic, streamTopic } from './topics.js';

describe('topics', () => {
  it('builds and parses vw/v1/<site>/<gateway>/<device>/<kind>', () => {
    const t = streamTopic('bv-soc-son', 'gw1', '0123456789ABCDEF', 'obs');
    expect(t).toBe('vw/v1/bv-soc-son/gw1/0123456789ABCDEF/obs');
    expect(parseStreamTopic(t)).toEqual({ site: 'bv-soc-son', gateway: 'gw1', device: '0123456789ABCDEF', kind: 'obs' });
  });

  it('refuses segments that would widen a subscription or break the tree', () => {
    for (const s of ['#', '+', 'a/b', '', 'x'.repeat(65), 'a b']) {
      expect(() => streamTopic(s, 'gw', 'd', 'obs'), s).toThrow(TypeError);
    }
    for (const t of ['vw/v1/a/b/c', 'vw/v2/a/b/c/obs', 'vw/v1/a/b/c/other', 'vw/v1/+/b/c/obs', 'vw/v1/a/b/c/obs/x']) {
      expect(parseStreamTopic(t), t).toBeNull();
    }
  });
});
