import { describe, expect, it } from 'vitest';
import { parseControl } from './control.js';

const text = (v: unknown): Buffer => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

describe('dashboard control messages', () => {
  it('reads subscribe, unsubscribe and renew, keeping only the known backfill fields', () => {
    expect(
      parseControl(
        text({
          op: 'subscribe',
          bed: 'a/b/c',
          streams: ['obs', 'wave'],
          backfill: { waveMs: 5000, obsLatest: true, junk: 1, obsMs: 'x' },
        }),
        false,
      ),
    ).toEqual({ op: 'subscribe', bed: 'a/b/c', streams: ['obs', 'wave'], backfill: { waveMs: 5000, obsLatest: true } });
    expect(parseControl(text({ op: 'subscribe', bed: 'a/b/c' }), false)).toEqual({ op: 'subscribe', bed: 'a/b/c' });
    expect(parseControl(text({ op: 'unsubscribe', bed: 'a/b/c' }), false)).toEqual({ op: 'unsubscribe', bed: 'a/b/c' });
    expect(parseControl(text({ op: 'renew', token: 't' }), false)).toEqual({ op: 'renew', token: 't' });
  });

  it('refuses what is not a known op, with a reason', () => {
    expect(parseControl(text('{'), false)).toEqual({ error: 'not JSON' });
    expect(parseControl(text([1]), false)).toEqual({ error: 'not an object' });
    expect(parseControl(text({ op: 'drop-table' }), false)).toEqual({ error: 'unknown op' });
    expect(parseControl(text({ op: 'subscribe', bed: 'a/b/c', streams: ['obs', 'secrets'] }), false)).toHaveProperty(
      'error',
    );
    expect(parseControl(text({ op: 'renew' }), false)).toEqual({ error: 'renew needs a token' });
    expect(parseControl(text({ op: 'subscribe', bed: 'a/b/c' }), true)).toEqual({
      error: 'control messages are JSON text',
    });
  });
});
