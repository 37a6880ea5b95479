// A user removed, or its password or scope changed, while it is connected: effective within one re-check interval rather
// than at its next reconnect, which for a dashboard service may be never (issue 14: after `users remove` the open MQTT
// session received data for 45 s more and would have forever). Every `usersRecheckMs` the users file is re-read if it
// changed (lib/watched-file.ts) and each connected user is checked against it:
//   - removed, or its password hash changed: disconnected (`user-removed`, `user-credentials-changed`);
//   - role or sites changed: its identity is replaced, so every later publish, subscribe and Will is checked against
//     the new scope, and the subscriptions the new scope no longer allows are dropped (counted as
//     refused_subscribes{reason="scope-narrowed"}), from the persistent session too.
// A users file that cannot be read leaves the connected users as they are (new logins are refused: fail closed, as for
// the revocation list) and is logged.
import type { Client } from 'aedes';
import { canSubscribe, type Identity } from './acl.js';
import { subscriptionsOf } from './aedes-internals/index.js';
import { disconnect, peerEvent, peerOf, who, type BrokerContext } from './context.js';
import { bump } from './metrics.js';

/** The part of an Aedes persistence that forgets a persistent session's subscriptions (its public interface). */
export interface SubscriptionStore {
  removeSubscriptions(client: Client, topics: string[]): Promise<void>;
}

function sameSites(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((s) => b.includes(s));
}

/** One pass over the connected users. Exported for tests that drive it without a timer. */
export async function recheckUsers(ctx: BrokerContext, persistence: SubscriptionStore): Promise<void> {
  try {
    await ctx.users.refresh?.();
  } catch (err) {
    ctx.log.warn(
      { event: 'users_recheck_failed', err: (err as Error).message },
      'users file unreadable; connected users kept',
    );
    return;
  }
  for (const client of [...ctx.userClients]) {
    const c = ctx.conns.get(client);
    const id = c?.identity;
    if (!c || id?.kind !== 'user' || c.closedBy !== null || c.stream.destroyed) continue;
    const user = ctx.users.get(id.name);
    if (!user) {
      disconnect(ctx, client, c, 'user-removed', 'VW_ERR_ACCOUNT_CHANGED');
      continue;
    }
    if (user.hash !== c.userHash) {
      disconnect(ctx, client, c, 'user-credentials-changed', 'VW_ERR_ACCOUNT_CHANGED');
      continue;
    }
    if (user.role === id.role && sameSites(user.sites, id.sites)) continue;
    const next: Identity = { kind: 'user', name: user.name, role: user.role, sites: [...user.sites] };
    c.identity = next;
    c.allowedTopic = null;
    if (c.role !== null && c.role !== user.role) {
      ctx.counters.connections[c.role]--;
      ctx.counters.connections[user.role]++;
      c.role = user.role;
    }
    const dropped = Object.keys(subscriptionsOf(client)).filter((f) => !canSubscribe(next, f));
    if (dropped.length === 0) continue;
    bump(ctx.counters.refusedSubscribes, 'scope-narrowed', dropped.length);
    peerEvent(
      ctx,
      'warn',
      peerOf(c),
      { event: 'subscriptions_dropped', reason: 'scope-narrowed', identity: who(c), filter: dropped.join(' ') },
      'subscriptions outside the narrowed scope dropped',
    );
    // The live subscriptions (Client.unsubscribe without a packet identifier sends no UNSUBACK), and a persistent
    // session's stored ones, which a reconnect would otherwise restore (and authorizeSubscribe check again).
    await new Promise<void>((resolve) => client.unsubscribe({ unsubscriptions: dropped } as never, () => resolve()));
    if (!client.clean) await persistence.removeSubscriptions(client, dropped).catch(() => undefined);
  }
}

/** Re-checks connected users every `intervalMs`; returns the stop function. */
export function startUsersRecheck(ctx: BrokerContext, persistence: SubscriptionStore, intervalMs: number): () => void {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    recheckUsers(ctx, persistence)
      .catch((err: unknown) =>
        ctx.log.error({ event: 'users_recheck_failed', err: String(err) }, 'users re-check failed'),
      )
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
