// Each device link's state, with a reason a district engineer can act on, at the gateway itself (its log, its
// metrics, `vitalwire gateway status`, DeviceStatus.diagnosis): the link is down; it is up and nothing arrives; bytes
// arrive and make no frame (and what they look like instead); too many frames are rejected; frames are OK. Pure: the
// device runtime feeds it counters and times, and says when to run it.
import type { Inference } from './diagnosis-bytes.js';
import { silenceDiagnosis } from './silence.js';

export const DIAGNOSIS_STATES = ['down', 'waiting', 'no-bytes', 'no-frames', 'frame-errors', 'ok'] as const;
export type DiagnosisState = (typeof DIAGNOSIS_STATES)[number];

/** The problem states: logged as warnings, reported in DeviceStatus.diagnosis. */
export const PROBLEM_STATES: ReadonlySet<DiagnosisState> = new Set(['no-bytes', 'no-frames', 'frame-errors']);

/** A device whose silence is not judged (`silence: off`) is called no-bytes or no-frames after this long. */
export const DIAGNOSIS_WINDOW_MS = 10_000;
/** Rejected frames are counted over windows of at least this long ... */
export const ERROR_WINDOW_MIN_MS = 10_000;
/** ... and make the state frame-errors from this share of the frames, and at least this many frames. */
export const FRAME_ERROR_SHARE = 0.05;
export const FRAME_ERROR_MIN = 3;
/**
 * When at least this share of the frames is rejected, or the failing bytes look like a wrong rate or protocol, the
 * frames that pass are likely noise that fits by chance (Nonin 8 has no checksum: read at twice its rate, most of its
 * bytes pass its bit and range checks): their values are flagged FLAG_QUESTIONABLE.
 */
export const DOUBTFUL_SHARE = 0.5;
/** A device's diagnosis is logged on a change, at most once in this long (a flapping link does not flood the log). */
export const DIAGNOSIS_LOG_INTERVAL_MS = 30_000;
/** Bytes that make no frame are analysed at most this often per device. */
export const INFERENCE_INTERVAL_MS = 5_000;

export interface LineSettings {
  baudRate: number;
  dataBits: 7 | 8;
  parity: 'none' | 'even' | 'odd';
  stopBits: 1 | 2;
}

/** "9600 8N1", "19200 8E1". */
export function lineName(l: LineSettings): string {
  return `${l.baudRate} ${l.dataBits}${l.parity[0]?.toUpperCase() ?? 'N'}${l.stopBits}`;
}

/** A config change to try. */
export interface Suggestion {
  protocol?: string;
  baudRate?: number;
}

export interface Diagnosis {
  state: DiagnosisState;
  /** One sentence with what to check; no values, no patient data. */
  text: string;
  /** What the bytes decode as instead, when they decode as something: the config change to try. */
  suggestion?: Suggestion;
  /** frame-errors: the frames that pass are likely noise that fits by chance; their values are flagged questionable. */
  questionable?: boolean;
}

/** Frames and rejected frames of the last finished window. */
export interface ErrorRate {
  frames: number;
  bad: number;
  windowMs: number;
  /** The code most of the rejections carried. */
  topCode?: string;
}

type Counts = { frames: number; badFrames: number; errors: Partial<Record<string, number>> };

/** Counts rejected frames over tumbling windows (one comparison per tick; nothing per frame). */
export class ErrorWindow {
  private fromUs = -1;
  private frames0 = 0;
  private bad0 = 0;
  private errors0: Record<string, number> = {};
  last: ErrorRate | null = null;

  constructor(private readonly windowUs: number) {}

  /** A new link: nothing counted yet. */
  reset(nowUs: number, c: Counts): void {
    this.start(nowUs, c);
    this.last = null;
  }

  private start(nowUs: number, c: Counts): void {
    this.fromUs = nowUs;
    this.frames0 = c.frames;
    this.bad0 = c.badFrames;
    this.errors0 = { ...c.errors } as Record<string, number>;
  }

  roll(nowUs: number, c: Counts): void {
    if (this.fromUs < 0) return this.reset(nowUs, c);
    if (nowUs - this.fromUs < this.windowUs) return;
    let topCode: string | undefined;
    let top = 0;
    for (const [code, v] of Object.entries(c.errors)) {
      const d = (v ?? 0) - (this.errors0[code] ?? 0);
      // Link events are not frame errors.
      if (d > top && !code.startsWith('VW_ERR_LINK_')) {
        top = d;
        topCode = code;
      }
    }
    this.last = {
      frames: c.frames - this.frames0,
      bad: c.badFrames - this.bad0,
      windowMs: Math.round((nowUs - this.fromUs) / 1000),
      ...(topCode ? { topCode } : {}),
    };
    this.start(nowUs, c);
  }
}

export interface DiagnosisInput {
  protocol: string;
  /** Serial links: the settings the bytes were read with. */
  line?: LineSettings | undefined;
  link: 'connecting' | 'connected' | 'disconnected';
  /** VW_ERR_* of the last link failure, and the OS's words for it (ENOENT, ECONNREFUSED ...). */
  linkReason?: string | undefined;
  linkDetail?: string | undefined;
  nowUs: number;
  upSinceUs: number;
  lastFrameUs: number;
  /** No good frame for this long is no-bytes or no-frames (the silence threshold when silence is judged). */
  windowUs: number;
  /** The runtime reports the device SILENT. */
  silent: boolean;
  bytesSinceFrame: number;
  badSinceFrame: number;
  errors: ErrorRate | null;
  /** What the bytes that made no frame look like (run only when a state needs it: it scans the bytes). */
  inference: () => Inference | null;
}

/** Does the last error window say the frames that pass cannot be trusted? */
export function doubtful(e: ErrorRate | null): boolean {
  return e !== null && e.bad >= FRAME_ERROR_MIN && e.bad / Math.max(1, e.frames) >= DOUBTFUL_SHARE;
}

/** What bytes that made no frame look like, as the end of the no-frames sentence. */
export function inferenceHint(
  inf: Inference | null,
  line: LineSettings | undefined,
): { hint: string; suggestion?: Suggestion } {
  if (inf?.kind === 'protocol') {
    const at = line ? ` at ${line.baudRate} baud` : '';
    return {
      hint: `looks like ${inf.protocol}${at}: set the device's protocol to ${inf.protocol}`,
      suggestion: { protocol: inf.protocol },
    };
  }
  if (inf?.kind === 'slow-sender' && line) {
    return {
      hint: `looks like a sender at ${inf.baudRate} baud read at ${line.baudRate} (every bit read ${Math.round((line.baudRate / inf.baudRate) * 10) / 10} times): set baudRate ${inf.baudRate}; vitalwire gateway probe names the protocol`,
      suggestion: { baudRate: inf.baudRate },
    };
  }
  if (line) {
    return {
      hint: `no known protocol decodes them at ${lineName(line)}: check the protocol, baud rate and framing (a faster sender leaves no trace of its rate; vitalwire gateway probe tries every rate)`,
    };
  }
  return {
    hint: "no known protocol decodes them: check the protocol, baud rate and framing (is this the device's data port?)",
  };
}

/** The text of a silent device (no-bytes, no-frames): also DeviceStatus.diagnosis while SILENT. */
export function silentText(i: DiagnosisInput): { text: string; suggestion?: Suggestion } {
  const from = Math.max(i.lastFrameUs, i.upSinceUs);
  const base = {
    silentMs: (i.nowUs - from) / 1000,
    protocol: i.protocol,
    bytes: i.bytesSinceFrame,
    badFrames: i.badSinceFrame,
    neverFramed: i.lastFrameUs < i.upSinceUs,
  };
  if (i.bytesSinceFrame === 0) return { text: silenceDiagnosis(base) };
  const h = inferenceHint(i.inference(), i.line);
  return { text: silenceDiagnosis({ ...base, hint: h.hint }), ...(h.suggestion ? { suggestion: h.suggestion } : {}) };
}

function downText(i: DiagnosisInput): string {
  const detail = i.linkDetail ? ` (${i.linkDetail})` : '';
  if (i.link === 'connecting') return 'connecting';
  switch (i.linkReason) {
    case 'VW_ERR_LINK_OPEN':
      return `cannot open the link${detail}: check the serial path or host and port, that the adapter is plugged in, and that no other program holds it`;
    case 'VW_ERR_LINK_CLOSED':
      return `the link closed${detail}: a cable pulled, the device off or restarting, or the terminal server dropped it`;
    default:
      return "no monitor connected: check the monitor's HL7 export address and port, and the listener's allowedPeers";
  }
}

export function diagnose(i: DiagnosisInput): Diagnosis {
  if (i.link !== 'connected') return { state: 'down', text: downText(i) };
  const from = Math.max(i.lastFrameUs, i.upSinceUs);
  if (i.silent || i.nowUs - from >= i.windowUs) {
    return { state: i.bytesSinceFrame === 0 ? 'no-bytes' : 'no-frames', ...silentText(i) };
  }
  if (i.lastFrameUs < i.upSinceUs)
    return { state: 'waiting', text: `link up ${Math.round((i.nowUs - i.upSinceUs) / 1e6)} s, no frame yet` };
  const e = i.errors;
  if (e && e.frames > 0 && e.bad >= FRAME_ERROR_MIN && e.bad / e.frames >= FRAME_ERROR_SHARE) {
    const pct = Math.round((e.bad / e.frames) * 100);
    const what = e.topCode?.includes('CHECKSUM') ? 'checksum errors' : 'frame errors';
    const head = `${what} ${pct} % (${e.bad} of ${e.frames} frames rejected in ${Math.round(e.windowMs / 1000)} s${e.topCode ? `, mostly ${e.topCode}` : ''})`;
    // What the failing bytes look like: a wrong rate or protocol whose bytes pass the decoder now and then (Nonin 8
    // read at twice its rate mostly does) rather than noise. Then, as when most frames fail, the values that pass are
    // doubtful.
    const inf = i.inference();
    const h = inf ? inferenceHint(inf, i.line) : null;
    if (h || doubtful(e)) {
      return {
        state: 'frame-errors',
        text: `${head}, values flagged questionable: ${h ? h.hint : 'check the protocol, baud rate and framing, then the cable'}`,
        questionable: true,
        ...(h?.suggestion ? { suggestion: h.suggestion } : {}),
      };
    }
    return {
      state: 'frame-errors',
      text: `${head}: check the cable and its connectors, a long or unshielded run, and the line settings`,
    };
  }
  return { state: 'ok', text: 'frames OK' };
}
