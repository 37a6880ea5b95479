// What the central side (central/central.ts) hands the fan-out besides the broker: the users store, the session key
// file, the audit directory and, in a cluster, the Redis URL for shared backfill.
import { join } from 'node:path';
import type { Logger } from '../lib/log.js';
import { createUserStore, type UserStore } from '../broker/users.js';
import { createFileAuditLog, type AuditLog } from './audit.js';
import { loadOrCreateSessionSecret } from './secret.js';

export interface FanoutSecurity {
  users: Pick<UserStore, 'get' | 'verify'>;
  sessionSecret: Buffer;
  audit: AuditLog;
  redis?: { url: string };
}

/**
 * `stateDir` holds `fanout/session.key` (created 0600 when missing) and `audit/`. Without a users store nobody can
 * log in to the dashboard, which is said once in the log.
 */
export async function fanoutSecurity(o: {
  stateDir: string;
  users?: UserStore | undefined;
  redisUrl?: string | undefined;
  logger: Logger;
  audit?: AuditLog;
}): Promise<FanoutSecurity> {
  if (!o.users)
    o.logger.warn({ event: 'no_users' }, 'no users file: nobody can log in to the dashboard (vitalwire users add)');
  return {
    users: o.users ?? createUserStore(),
    sessionSecret: await loadOrCreateSessionSecret(join(o.stateDir, 'fanout', 'session.key')),
    audit:
      o.audit ??
      createFileAuditLog({
        dir: join(o.stateDir, 'audit'),
        onError: (err) => o.logger.error({ event: 'audit_write_failed', err: err.message }, 'audit log write failed'),
      }),
    ...(o.redisUrl ? { redis: { url: o.redisUrl } } : {}),
  };
}
