// The dashboard WebSocket contract (docs/dashboard.md), shared by the fan-out and the browser. Pure data: no
// Node or DOM imports, so esbuild bundles it into the page as is.
//
// Upgrade: GET /ws with subprotocols `vw.v1` and `vw.token.<session token>`; the Origin must be the page's own.
// Server -> client binary message: one or more length-delimited protobuf Batches (varint length, then the bytes
// the gateway published, unchanged), in per-stream order. Text messages both ways: one JSON object each.

export const SUBPROTOCOL = 'vw.v1';
export const TOKEN_PREFIX = 'vw.token.';

export const STREAMS = ['obs', 'wave', 'alarm', 'status'] as const;
export type StreamName = (typeof STREAMS)[number];

/** Close codes of the fan-out (RFC 6455 7.4.2: 4000-4999 are for applications). */
export const CLOSE = {
  SESSION_EXPIRED: 4001, // VW_ERR_WS_SESSION_EXPIRED: log in again
  USER_REMOVED: 4003, // VW_ERR_WS_USER_REMOVED: the account was removed from the users store
  SLOW_CLIENT: 4008, // VW_ERR_WS_SLOW_CLIENT: reconnect; backfill covers what was missed
  GOING_AWAY: 1001, // server shutting down
  POLICY: 1008, // too many bad control messages
  TOO_BIG: 1009, // a client message over maxClientMessageBytes (VW_ERR_WS_TOO_LARGE)
} as const;

/** Backfill a subscription asks for, per stream, in milliseconds of history. The server caps each. */
export interface BackfillRequest {
  obsMs?: number;
  /** Instead of a numerics history: the newest Batch of each set of metrics the device sends (vitals, NIBP...).
   *  This is what a ward tile asks for: such subscriptions are audited as one ward view, not bed by bed. */
  obsLatest?: boolean;
  waveMs?: number;
  alarmMs?: number;
}

export type ClientOp =
  | { op: 'subscribe'; bed: string; streams?: StreamName[]; backfill?: BackfillRequest }
  | { op: 'unsubscribe'; bed: string }
  | { op: 'renew'; token: string };

/** What the fan-out knows about a bed (one device of one gateway): ids and labels, never clinical values. */
export interface BedInfo {
  key: string; // site/gateway/device
  site: string;
  gateway: string;
  device: string;
  label: string; // Source.bed, '' when unknown
  model: string;
}

/** Per-stream summary of the history sent ahead of the live data of one subscription. */
export interface BackfillSummary {
  items: number;
  /** Every stride-th stored Batch was sent (numerics trends over a byte budget); 1 = all; 0 = the newest of each
   *  set of metrics (obsLatest). */
  stride: number;
  /** seq of the last history Batch (0 when none): live data continues from toSeq + 1. */
  toSeq: number;
}

export type ServerMessage =
  | {
      type: 'hello';
      user: string;
      role: string;
      scope: string[];
      expiresAt: number;
      serverTimeMs: number;
      maxBeds: number;
    }
  | { type: 'beds'; beds: BedInfo[] }
  | { type: 'bed'; bed: BedInfo }
  | { type: 'subscribed'; bed: string; streams: StreamName[]; backfill: Partial<Record<StreamName, BackfillSummary>> }
  | { type: 'unsubscribed'; bed: string }
  | { type: 'refused'; bed: string; code: string; reason: string }
  | { type: 'renewed'; expiresAt: number }
  | { type: 'error'; code: string; reason: string };

/** Login API: POST /api/login {user, password}; POST /api/session with `authorization: Bearer <token>` renews. */
export interface SessionResponse {
  token: string;
  user: string;
  role: string;
  scope: string[];
  expiresAt: number; // epoch ms
}

const SEGMENT = /^[A-Za-z0-9._:-]{1,64}$/;

/** `site/gateway/device` with three valid topic segments, else null. */
export function parseBedKey(key: unknown): { site: string; gateway: string; device: string } | null {
  if (typeof key !== 'string' || key.length > 200) return null;
  const p = key.split('/');
  if (p.length !== 3) return null;
  const [site, gateway, device] = p as [string, string, string];
  if (!SEGMENT.test(site) || !SEGMENT.test(gateway) || !SEGMENT.test(device)) return null;
  return { site, gateway, device };
}
