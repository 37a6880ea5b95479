// What a dashboard session may see. A user's `sites` list (broker/users.ts) holds scope entries:
//   '*'                       every bed
//   '<site>'                  every bed of a site (the same meaning the broker's MQTT ACL gives it)
//   '<site>/<gateway>'        every bed behind one gateway
//   '<site>/<gateway>/<device>' one bed
// The broker's topic ACL reads only the first two forms (a finer entry grants no MQTT site access: fail closed).
// Deny by default: an entry that is not one of these forms grants nothing.
import { parseBedKey } from './protocol.js';

const SEGMENT = /^[A-Za-z0-9._:-]{1,64}$/;

export interface Scope {
  readonly entries: readonly string[];
  readonly all: boolean;
  readonly sites: ReadonlySet<string>;
  readonly gateways: ReadonlySet<string>;
  readonly beds: ReadonlySet<string>;
}

/** A valid scope entry (see above). */
export function isScopeEntry(e: unknown): e is string {
  if (e === '*') return true;
  if (typeof e !== 'string' || e.length > 200) return false;
  const p = e.split('/');
  return p.length >= 1 && p.length <= 3 && p.every((s) => SEGMENT.test(s));
}

/** Compiles entries into a matcher; invalid entries are dropped (they grant nothing). */
export function compileScope(entries: readonly unknown[]): Scope {
  const valid = entries.filter(isScopeEntry);
  const sites = new Set<string>();
  const gateways = new Set<string>();
  const beds = new Set<string>();
  let all = false;
  for (const e of valid) {
    if (e === '*') all = true;
    else {
      const n = e.split('/').length;
      (n === 1 ? sites : n === 2 ? gateways : beds).add(e);
    }
  }
  return { entries: valid, all, sites, gateways, beds };
}

export function bedInScope(scope: Scope, site: string, gateway: string, device: string): boolean {
  return (
    scope.all ||
    scope.sites.has(site) ||
    scope.gateways.has(`${site}/${gateway}`) ||
    scope.beds.has(`${site}/${gateway}/${device}`)
  );
}

/** The same check on a `site/gateway/device` key; malformed keys are out of every scope. */
export function bedKeyInScope(scope: Scope, key: string): boolean {
  const b = parseBedKey(key);
  return b !== null && bedInScope(scope, b.site, b.gateway, b.device);
}

/** `outer` grants everything `inner` names (`*` ⊇ `site` ⊇ `site/gw` ⊇ `site/gw/dev`). */
function covers(outer: string, inner: string): boolean {
  return outer === '*' || inner === outer || inner.startsWith(`${outer}/`);
}

/**
 * What both scopes grant: for each pair of entries the narrower one when one contains the other, nothing for disjoint
 * ones. A session's token scope narrowed to its user's sites as the users store holds them now (a widening waits for
 * the next token: the token is what was granted at login).
 */
export function intersectScopes(a: Scope, b: Scope): Scope {
  const out = new Set<string>();
  for (const x of a.entries) {
    for (const y of b.entries) {
      if (covers(x, y)) out.add(y);
      else if (covers(y, x)) out.add(x);
    }
  }
  return compileScope([...out].sort());
}

export function sameScope(a: Scope, b: Scope): boolean {
  if (a.entries.length !== b.entries.length) return false;
  const x = [...a.entries].sort();
  const y = [...b.entries].sort();
  return x.every((e, i) => e === y[i]);
}
