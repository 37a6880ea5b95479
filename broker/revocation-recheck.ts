// A certificate revoked while its gateway is connected: the connection is closed at the next re-check rather than at
// its next reconnect, which for a healthy gateway may be weeks away. A list that cannot be read leaves the connections
// admitted under the last good one (new connects are refused, fail closed: identity.ts) and is logged.
import { disconnect, type BrokerContext } from './context.js';

/** Re-checks connected gateways every `intervalMs`; returns the stop function. */
export function startRevocationRecheck(ctx: BrokerContext, intervalMs: number): () => void {
  const list = ctx.revocation;
  if (!list) return () => undefined;
  let rechecking = false;
  const recheck = async (): Promise<void> => {
    if (rechecking) return;
    rechecking = true;
    try {
      for (const client of [...ctx.certified]) {
        const c = ctx.conns.get(client);
        if (!c?.certSerial || c.closedBy !== null) continue;
        const revoked = await list.isRevoked(c.certSerial);
        // The client may have gone on its own while the list was read: then it was not the broker that closed it.
        if (revoked && ctx.certified.has(client) && !c.stream.destroyed)
          disconnect(ctx, client, c, 'certificate-revoked', 'VW_ERR_CERT_REVOKED');
      }
    } catch (err) {
      ctx.log.warn(
        { event: 'revocation_recheck_failed', err: (err as Error).message },
        'revocation list unreadable; connected gateways kept',
      );
    } finally {
      rechecking = false;
    }
  };
  const timer = setInterval(() => void recheck(), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
