// The Datex-Ohmeda S/5 transmission request, and the host's session around it. An S/5 (AS/3, CARESCAPE) computer
// interface sends nothing until the host asks: a physiological-database request names the subrecord type and the
// interval, and the monitor then sends a record every interval until told to stop (interval 0) or restarted.
//
// The request record, from public code that drives real monitors, compared field by field:
//   [VSC] xeonfusion/VSCapture Class1.cs RequestTransfer/StopTransfer, Class2.cs (structs);
//   [KAI] KaiWU17TUM/icu_devices GE_Monitor docs and code/ge_monitor.cpp (prepare_phdb_request), monitor_serial.
// Header (40 bytes, layout.ts HDR): r_len = 40 + 9 = 49 [VSC: "49 size of hdr + phdb type"], r_maintype
// DRI_MT_PHDB (0), r_time 0, sr_desc[0] = {offset 0, type 0 = transmission request}, sr_desc[1].type 0xFF
// (DRI_EOL_SUBR_LIST). Then dri_phdb_req (packed): phdb_rcrd_type u8 (1 displayed, 2 10 s trend, 3 60 s trend),
// tx_ival i16 (seconds), phdb_class_bf u32 (0 basic; bit 0 deny basic, bits 1-3 ext1-ext3), reserved i16 [KAI
// struct dri_phdb_req]. ([VSC] declares the class field as a C# long, 8 bytes, but marshals 49 bytes: the first
// four are the same little-endian u32.) r_dri_level: [KAI] sends 0 ("0 works anyway"); [VSC] sends its request at
// the levels 2005, 2003 and 2001 in turn. A stop is the same request with interval 0 and class 0 [VSC StopTransfer].
//
// Checksum: the frame is wrapped like every Datex frame (framing/datex.ts, the sum of the unescaped bytes). Public
// senders sum the escaped bytes; for a request the two agree unless a byte is 0x7D or 0x7E, which the validated
// options exclude (interval 5-60 s, level below 0x7D), so both readings of the rule give the same frame.
import type { Decoded } from '../decoded.js';
import { datexWrap } from '../framing/datex.js';
import type { ProtocolSession, SessionStep } from '../session.js';
import { HDR, MAINTYPE, PH_SUBTYPE, SR_END } from './layout.js';

/** sr_type of a transmission request subrecord [VSC "Physiological data request"][KAI "0 = ... request"]. */
export const SR_TX_REQUEST = 0;
export const REQUEST_BODY_BYTES = 9;
export const REQUEST_RECORD_BYTES = HDR.SIZE + REQUEST_BODY_BYTES; // 49
/** phdb_class_bf bits [KAI][VSC]: basic is sent unless denied; ext1..ext3 on request. */
export const CLASS_BF = { DENY_BASIC: 0x1, EXT1: 0x2, EXT2: 0x4, EXT3: 0x8 } as const;

export interface PhdbRequest {
  /** 1 displayed values (default), 2 10 s trend, 3 60 s trend. */
  recordType: number;
  /** Seconds between records; 0 stops the transmission. */
  intervalS: number;
  /** phdb_class_bf; 0 = basic class only. */
  classBits: number;
  driLevel: number;
}

/** The request record (no framing). */
export function encodePhdbRequestRecord(r: PhdbRequest): Buffer {
  const b = Buffer.alloc(REQUEST_RECORD_BYTES);
  b.writeInt16LE(REQUEST_RECORD_BYTES, HDR.R_LEN);
  b[HDR.R_DRI_LEVEL] = r.driLevel & 0xff;
  b.writeInt16LE(MAINTYPE.PHDB, HDR.R_MAINTYPE);
  b.writeInt16LE(0, HDR.SR_DESC);
  b[HDR.SR_DESC + 2] = SR_TX_REQUEST;
  b[HDR.SR_DESC + HDR.SR_DESC_SIZE + 2] = SR_END;
  for (let d = 2; d < HDR.SR_COUNT; d++) b[HDR.SR_DESC + d * HDR.SR_DESC_SIZE + 2] = 0;
  b[HDR.SIZE] = r.recordType & 0xff;
  b.writeInt16LE(r.intervalS, HDR.SIZE + 1);
  b.writeUInt32LE(r.classBits >>> 0, HDR.SIZE + 3);
  return b;
}

export function encodePhdbRequestFrame(r: PhdbRequest): Buffer {
  return datexWrap(encodePhdbRequestRecord(r));
}

/** Reads a transmission request (the monitor's side: simulators). Null when the record is not one. */
export function readPhdbRequest(rec: Buffer): PhdbRequest | null {
  if (rec.length < REQUEST_RECORD_BYTES) return null;
  if (rec.readInt16LE(HDR.R_MAINTYPE) !== MAINTYPE.PHDB) return null;
  if (rec[HDR.SR_DESC + 2] !== SR_TX_REQUEST) return null;
  const at = HDR.SIZE + rec.readInt16LE(HDR.SR_DESC);
  if (at < HDR.SIZE || at + REQUEST_BODY_BYTES > rec.length) return null;
  return {
    recordType: rec[at] as number,
    intervalS: rec.readInt16LE(at + 1),
    classBits: rec.readUInt32LE(at + 3),
    driLevel: rec[HDR.R_DRI_LEVEL] as number,
  };
}

export interface DatexSessionOptions {
  /** Subrecord type requested (default displayed values). */
  recordType?: 'displayed' | 'trend-10s' | 'trend-60s';
  /** Seconds between records (default 5). */
  intervalS?: number;
  /** Classes besides basic (ext1..ext3); vitalwire decodes basic only, so the default asks for basic alone. */
  classes?: readonly ('basic' | 'ext1' | 'ext2' | 'ext3')[];
  /** r_dri_level of the request (default 0, as [KAI]). */
  driLevel?: number;
  /** No record for this long after a request, or since the last record: the request is sent again (default
   *  3 intervals + 5 s: a monitor that restarted, or lost the request, forgets it and falls silent). */
  renewAfterMs?: number;
  /** Send the request again this often even while records arrive (default 0: only when they stop). */
  refreshEveryMs?: number;
}

export const SESSION_STATES = {
  CLOSED: 'closed',
  REQUESTED: 'requested',
  STREAMING: 'streaming',
  RENEWING: 'renewing',
} as const;

const RECORD_TYPES = {
  displayed: PH_SUBTYPE.DISPL,
  'trend-10s': PH_SUBTYPE.TREND_10S,
  'trend-60s': PH_SUBTYPE.TREND_60S,
} as const;

export function datexRequestFrom(o: DatexSessionOptions): PhdbRequest {
  const classes = new Set(o.classes ?? ['basic']);
  const classBits =
    (classes.has('basic') ? 0 : CLASS_BF.DENY_BASIC) |
    (classes.has('ext1') ? CLASS_BF.EXT1 : 0) |
    (classes.has('ext2') ? CLASS_BF.EXT2 : 0) |
    (classes.has('ext3') ? CLASS_BF.EXT3 : 0);
  return {
    recordType: RECORD_TYPES[o.recordType ?? 'displayed'],
    intervalS: o.intervalS ?? 5,
    classBits,
    driLevel: o.driLevel ?? 0,
  };
}

/** The host side: request at link up, watch for records, request again when they stop, stop politely. */
export function createDatexSession(
  o: DatexSessionOptions = {},
): ProtocolSession & { readonly requests: number; readonly renewals: number } {
  const req = datexRequestFrom(o);
  const request = encodePhdbRequestFrame(req);
  const stop = encodePhdbRequestFrame({ ...req, intervalS: 0, classBits: 0 });
  const renewAfter = o.renewAfterMs ?? req.intervalS * 3000 + 5000;
  const refresh = o.refreshEveryMs ?? 0;
  let state: string = SESSION_STATES.CLOSED;
  let lastRecordMs = 0;
  let requestedMs = 0;
  let requests = 0;
  let renewals = 0;

  const send = (nowMs: number, renewing: boolean): SessionStep => {
    requests++;
    if (renewing) renewals++;
    requestedMs = nowMs;
    state = renewing ? SESSION_STATES.RENEWING : SESSION_STATES.REQUESTED;
    return { write: [request], wakeInMs: renewAfter };
  };
  const wake = (nowMs: number): number => {
    const due = lastRecordMs + renewAfter - nowMs;
    return Math.max(1, refresh > 0 ? Math.min(due, requestedMs + refresh - nowMs) : due);
  };

  return {
    get state() {
      return state;
    },
    get requests() {
      return requests;
    },
    get renewals() {
      return renewals;
    },
    opened(nowMs) {
      lastRecordMs = 0;
      return send(nowMs, false);
    },
    frame(d: Decoded, nowMs) {
      if (state === SESSION_STATES.CLOSED) return { write: [], wakeInMs: null };
      // Any decoded record answers the request (a record the decoder rejects, e.g. a waveform, does not).
      void d;
      lastRecordMs = nowMs;
      state = SESSION_STATES.STREAMING;
      return { write: [], wakeInMs: wake(nowMs) };
    },
    timer(nowMs) {
      if (state === SESSION_STATES.CLOSED) return { write: [], wakeInMs: null };
      const quiet = nowMs - Math.max(lastRecordMs, requestedMs);
      if (quiet >= renewAfter) return send(nowMs, true);
      if (refresh > 0 && state === SESSION_STATES.STREAMING && nowMs - requestedMs >= refresh) {
        requests++;
        requestedMs = nowMs;
        return { write: [request], wakeInMs: wake(nowMs) };
      }
      return {
        write: [],
        wakeInMs: state === SESSION_STATES.STREAMING ? wake(nowMs) : Math.max(1, requestedMs + renewAfter - nowMs),
      };
    },
    closed() {
      state = SESSION_STATES.CLOSED;
    },
    stopping: () => (state === SESSION_STATES.CLOSED ? [] : [stop]),
  };
}
