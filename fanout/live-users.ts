// Who a live dashboard session belongs to, read again from the users store (issue 14 finding 6): at the upgrade, at
// each renewal, and every `userRecheckMs` for every open socket. A token proves what was granted at login; the users
// store says what holds now. A removed user's sockets are closed; a narrowed scope drops the beds outside it.
import type { User, UserStore } from '../broker/users.js';
import type { Logger } from '../lib/log.js';
import { compileScope, intersectScopes, type Scope } from './scope.js';
import type { Session } from './session.js';

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

/**
 * Every `intervalMs`: the users file re-read if it changed, then every open socket checked against it. A removed
 * user's sockets go to `onRemoved` (closed with 4003); a narrowed scope drops the beds outside it (hub.rescope). While
 * the file cannot be read, live sessions stay as they are (new ones are refused elsewhere) and the failure is logged
 * once. Returns the way to stop it.
 */
export function startUserRecheck<C extends { session: Session; granted: Scope }>(o: {
  users: UserSource;
  hub: { readonly clients: ReadonlySet<C>; rescope(c: C, s: Session): void };
  intervalMs: number;
  logger: Logger;
  onRemoved(c: C): void;
}): () => void {
  let running = false;
  let broken = false;
  const check = async (): Promise<void> => {
    if (running) return;
    running = true;
    try {
      const reason = await refreshUsers(o.users);
      if (reason !== null) {
        if (!broken)
          o.logger.error(
            { event: 'users_unavailable', err: reason },
            'users store unreadable: live sessions kept, new ones refused',
          );
        broken = true;
        return;
      }
      broken = false;
      for (const c of [...o.hub.clients]) {
        const user = o.users.get(c.session.user);
        if (!user) o.onRemoved(c);
        else o.hub.rescope(c, { ...c.session, scope: liveScope(c.granted, user) });
      }
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void check(), o.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
