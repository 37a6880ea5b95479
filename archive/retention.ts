// Retention: each kind of data kept for its own number of days (waveforms shorter, numerics longer), then purged.
// Every purge is an audit entry: who (the retention job), when, which kind, the cut and how many rows went.
import type { AuditLog } from './audit.js';
import { DATA_KINDS, type DataKind } from './schema.js';
import type { ArchiveStore, PurgeReport } from './store/types.js';

export type RetentionDays = Readonly<Record<`${DataKind}Days`, number>>;

const DAY_US = 86_400_000_000;

export async function runRetention(
  store: ArchiveStore,
  audit: AuditLog,
  days: RetentionDays,
  nowUs: number,
  actor = 'system',
): Promise<PurgeReport[]> {
  const out: PurgeReport[] = [];
  for (const kind of DATA_KINDS) {
    const beforeUs = nowUs - days[`${kind}Days`] * DAY_US;
    const r = await store.purge(kind, beforeUs);
    out.push(r);
    await audit.append({
      actor,
      action: 'retention.purge',
      subject: kind,
      before: null,
      after: { beforeUs, before: new Date(beforeUs / 1000).toISOString(), rows: r.rows, days: days[`${kind}Days`] },
    });
  }
  return out;
}
