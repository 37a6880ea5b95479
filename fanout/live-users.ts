// Who a live dashboard session belongs to, read again from the users store (issue 14 finding 6): at the upgrade, at
// each renewal, and every `userRecheckMs` for every open socket. A token proves what was granted at login; the users
// store says what holds now. A removed user's sockets are closed; a narrowed scope drops the beds outside it.
import type { User, UserStore } from '../broker/users.js';
import { compileScope, intersectScopes, type Scope } from './scope.js';

/** The users store as the fan-out reads it; `refresh` re-reads a users file when it changed (broker/users-file.ts). */
export type UserSource = Pick<UserStore, 'get' | 'verify'> & { refresh?: () => Promise<void> };

export type Lookup =
  | { state: 'found'; user: User }
  | { state: 'removed' }
  /** The users file cannot be read now: new access is refused (fail closed), live sessions are left as they are. */
  | { state: 'unavailable'; reason: string };

/** Refreshes the store (when it is a file) and looks the user up. Never throws. */
export async function lookUpUser(users: UserSource, name: string): Promise<Lookup> {
  const fresh = await refreshUsers(users);
  if (fresh !== null) return { state: 'unavailable', reason: fresh };
  const user = users.get(name);
  return user ? { state: 'found', user } : { state: 'removed' };
}

/** Re-reads the users file if it changed; the reason it cannot be read, or null. */
export async function refreshUsers(users: UserSource): Promise<string | null> {
  if (!users.refresh) return null;
  try {
    await users.refresh();
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/** The scope a session may use now: what its token granted, narrowed to the user's current sites. */
export function liveScope(granted: Scope, user: Pick<User, 'sites'>): Scope {
  return intersectScopes(granted, compileScope(user.sites));
}
