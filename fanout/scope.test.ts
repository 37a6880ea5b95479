import { describe, expect, it } from 'vitest';
import { bedInScope, compileScope, intersectScopes, sameScope } from './scope.js';

describe('scope intersection (a token narrowed to the users file as it is now)', () => {
  const x = (a: string[], b: string[]): string[] => [...intersectScopes(compileScope(a), compileScope(b)).entries];

  it('keeps the narrower of two nested entries and nothing of disjoint ones', () => {
    expect(x(['*'], ['site1'])).toEqual(['site1']);
    expect(x(['site1'], ['*'])).toEqual(['site1']); // a widening in the file does not widen the token
    expect(x(['site1'], ['site1/gw1/bed01'])).toEqual(['site1/gw1/bed01']);
    expect(x(['site1/gw1'], ['site1/gw2'])).toEqual([]);
    expect(x(['site1', 'site2/gw9'], ['site2', 'site3'])).toEqual(['site2/gw9']);
    expect(x(['site1'], [])).toEqual([]);
  });

  it('does not let a prefix of a segment pass for its parent', () => {
    const s = intersectScopes(compileScope(['site1']), compileScope(['site10']));
    expect(s.entries).toEqual([]);
    expect(bedInScope(s, 'site10', 'gw1', 'bed01')).toBe(false);
  });

  it('compares scopes as sets', () => {
    expect(sameScope(compileScope(['a', 'b/c']), compileScope(['b/c', 'a']))).toBe(true);
    expect(sameScope(compileScope(['a']), compileScope(['a', 'b']))).toBe(false);
  });
});
