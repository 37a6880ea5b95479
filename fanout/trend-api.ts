// GET /api/trend?bed=<site/gateway/device>&hours=1|8|24: a bed's numerics from the archive for the dashboard's trend
// view (dashboard/archive-trend.ts), downsampled by archive/query.ts into about 360 buckets, with empty buckets as
// null and the gateway's declared gaps, never interpolated. Any dashboard session with the bed in its scope, as for
// the live stream. Demo, test and simulated values are included, each bucket's flags saying so, as the live view
// shows them under a banner.
import type { ServerResponse } from 'node:http';
import { trend } from '../archive/query.js';
import { parseBedKey } from './protocol.js';
import { sendJson, type Authed, type RecordContext } from './records.js';
import { bedInScope } from './scope.js';

export const TREND_HOURS = [1, 8, 24] as const;

/** The trend as the page reads it: times in ms since the epoch, a point as [t, min, max, mean, n, flags] or null. */
export interface TrendResponse {
  bed: string;
  fromMs: number;
  toMs: number;
  bucketMs: number;
  series: {
    mdc: number;
    refid: string;
    unit: string;
    points: ([number, number, number, number, number, number] | null)[];
  }[];
  gaps: { fromMs: number; toMs: number; reason: number }[];
}

export async function handleTrend(
  ctx: RecordContext,
  res: ServerResponse,
  params: URLSearchParams,
  auth: Authed,
): Promise<void> {
  if (!auth.ok)
    return sendJson(
      res,
      auth.status,
      { code: auth.status === 401 ? 'VW_ERR_WS_AUTH' : 'VW_ERR_USERS_UNAVAILABLE', reason: auth.reason },
      undefined,
      auth.status === 401 ? { 'www-authenticate': 'Bearer' } : { 'retry-after': '5' },
    );
  const key = params.get('bed') ?? '';
  const bed = parseBedKey(key);
  const hours = Number(params.get('hours') ?? '1');
  if (!bed || !(TREND_HOURS as readonly number[]).includes(hours)) {
    return sendJson(res, 400, {
      code: 'VW_ERR_WS_BAD_REQUEST',
      reason: `bed=<site/gateway/device> and hours=${TREND_HOURS.join('|')}`,
    });
  }
  // Out of scope and unknown look the same: a user learns nothing of beds outside their sites.
  if (!bedInScope(auth.session.scope, bed.site, bed.gateway, bed.device))
    return sendJson(res, 404, { code: 'VW_ERR_WS_BAD_REQUEST', reason: 'no such bed' });
  const toUs = ctx.now() * 1000;
  const fromUs = toUs - hours * 3_600_000_000;
  const t = await trend(ctx.source.store, await ctx.bindings(), {
    site: bed.site,
    gateway: bed.gateway,
    device: bed.device,
    fromUs,
    toUs,
    includeQuarantine: true,
  });
  const out: TrendResponse = {
    bed: key,
    fromMs: t.fromUs / 1000,
    toMs: t.toUs / 1000,
    bucketMs: t.bucketUs / 1000,
    series: t.series.map((s) => ({
      mdc: s.mdc,
      refid: s.refid,
      unit: s.unit,
      points: s.points.map((p) => (p ? [p.t / 1000, p.min, p.max, p.mean, p.n, p.flags] : null)),
    })),
    gaps: t.gaps.map((g) => ({ fromMs: g.fromUs / 1000, toMs: g.toUs / 1000, reason: g.reason })),
  };
  sendJson(res, 200, out);
}
