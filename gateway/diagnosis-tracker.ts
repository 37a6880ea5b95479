// One device's diagnosis over time: the rejected-frame windows, what the failing bytes look like (analysed at most
// every INFERENCE_INTERVAL_MS), the state of the last evaluation, and a log that speaks on a change only, at most once
// per DIAGNOSIS_LOG_INTERVAL_MS. The device runtime owns one and tells it what the link does; gateway/diagnosis.ts
// decides the state.
import type { Logger } from '../lib/log.js';
import { inferFromBytes, type Inference } from './diagnosis-bytes.js';
import {
  diagnose,
  DIAGNOSIS_LOG_INTERVAL_MS,
  DIAGNOSIS_WINDOW_MS,
  ERROR_WINDOW_MIN_MS,
  ErrorWindow,
  INFERENCE_INTERVAL_MS,
  PROBLEM_STATES,
  type Diagnosis,
  type DiagnosisInput,
  type DiagnosisState,
  type LineSettings,
} from './diagnosis.js';

/** What the runtime knows of the link: its state, times and counts. */
export type LinkFacts = Pick<
  DiagnosisInput,
  | 'link'
  | 'linkReason'
  | 'linkDetail'
  | 'nowUs'
  | 'upSinceUs'
  | 'lastFrameUs'
  | 'silent'
  | 'bytesSinceFrame'
  | 'badSinceFrame'
>;

type Counts = { frames: number; badFrames: number; errors: Partial<Record<string, number>> };

export class DeviceDiagnosis {
  private readonly windowUs: number;
  private readonly errors: ErrorWindow;
  private diag: Diagnosis = { state: 'down', text: 'connecting' };
  /** The state last logged, and when. */
  private loggedState: DiagnosisState = 'down';
  private loggedAtUs = -Infinity;
  private inference: { atUs: number; value: Inference | null } | null = null;

  constructor(
    private readonly o: {
      protocol: string;
      line?: LineSettings | undefined;
      /** No good frame for this long is no-bytes or no-frames: the silence threshold, or DIAGNOSIS_WINDOW_MS. */
      silenceAfterUs: number | null;
      recentBytes?: (() => Buffer) | undefined;
      log: Logger;
    },
  ) {
    this.windowUs = o.silenceAfterUs ?? DIAGNOSIS_WINDOW_MS * 1000;
    this.errors = new ErrorWindow(Math.max(this.windowUs, ERROR_WINDOW_MIN_MS * 1000));
  }

  /** The state as of the last evaluation. */
  get current(): Diagnosis {
    return this.diag;
  }

  /** The values that pass are likely noise (diagnosis.ts DOUBTFUL_SHARE): flag them questionable. */
  get questionable(): boolean {
    return this.diag.questionable === true;
  }

  /** The link changed state: what was inferred and doubted belongs to the old connection. */
  linkChanged(f: LinkFacts, counts: Counts): void {
    this.inference = null;
    if (this.diag.questionable) this.diag = { ...this.diag, questionable: false };
    if (f.link === 'connected') this.errors.reset(f.nowUs, counts);
  }

  private inferred(nowUs: number): Inference | null {
    if (!this.o.recentBytes) return null;
    const cached = this.inference;
    if (cached && nowUs - cached.atUs < INFERENCE_INTERVAL_MS * 1000) return cached.value;
    const line = this.o.line;
    const value = inferFromBytes(this.o.recentBytes(), {
      protocol: this.o.protocol,
      ...(line ? { readAt: line.baudRate, dataBits: line.dataBits } : {}),
    });
    this.inference = { atUs: nowUs, value };
    return value;
  }

  input(f: LinkFacts): DiagnosisInput {
    return {
      ...f,
      protocol: this.o.protocol,
      line: this.o.line,
      windowUs: this.windowUs,
      errors: this.errors.last,
      inference: () => this.inferred(f.nowUs),
    };
  }

  /**
   * The periodic evaluation (every second). A change to or from a problem state is logged, at most once per
   * DIAGNOSIS_LOG_INTERVAL_MS (a later change waits, and is logged if it still holds). Returns true when a status is
   * due: entering or leaving frame-errors, which DeviceStatus.diagnosis carries (SILENT has statuses of its own).
   */
  tick(f: LinkFacts, counts: Counts | null): boolean {
    if (counts && f.link === 'connected') this.errors.roll(f.nowUs, counts);
    const d = diagnose(this.input(f));
    this.diag = d;
    if (d.state === this.loggedState) return false;
    // The link's own lines say when it goes down or comes up; a wait for the first frame is no news.
    if (d.state === 'down' || d.state === 'waiting') return false;
    const was = this.loggedState;
    const speak = PROBLEM_STATES.has(d.state) || PROBLEM_STATES.has(was);
    if (speak && f.nowUs - this.loggedAtUs < DIAGNOSIS_LOG_INTERVAL_MS * 1000) return false; // said recently: wait
    this.loggedState = d.state;
    if (speak) {
      this.loggedAtUs = f.nowUs;
      const fields = { state: d.state, diagnosis: d.text, ...(d.suggestion ? { suggestion: d.suggestion } : {}) };
      if (PROBLEM_STATES.has(d.state)) this.o.log.warn(fields, 'device diagnosis');
      else this.o.log.info(fields, 'device diagnosis');
    }
    return (d.state === 'frame-errors') !== (was === 'frame-errors');
  }

  /** The device became SILENT: its log line carries this diagnosis and counts as the state's log line. */
  silent(f: LinkFacts): Diagnosis {
    this.diag = diagnose(this.input(f));
    this.loggedState = this.diag.state;
    this.loggedAtUs = f.nowUs;
    return this.diag;
  }
}
