import { describe, expect, it } from 'vitest';
import { peerText } from './log-safe.js';

describe('peerText', () => {
  it('keeps ids as they are', () => {
    expect(peerText('dr-an')).toBe('dr-an');
    expect(peerText('site1/gw1:x.y_z')).toBe('site1/gw1:x.y_z');
  });

  it('cuts a long string and says by how much', () => {
    expect(peerText('a'.repeat(60_000), 64)).toBe(`${'a'.repeat(64)}...(59936 more)`);
  });

  it('shows control characters, quotes, backslashes and non-ASCII as ?', () => {
    expect(peerText('a\nb\u0000c"d\\e\u00e9\u{1F600}')).toBe('a?b?c?d?e???');
  });

  it('accepts what is not a string', () => {
    expect(peerText(undefined)).toBe('');
    expect(peerText(42)).toBe('42');
  });
});
