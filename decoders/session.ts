// The contract of a protocol session: a host-side state machine for request/response devices (a Datex S/5 sends
// nothing until asked; an IntelliVue must be associated and polled; a Dräger Medibus wants a NOP). Sans-I/O, as
// the codecs: events in (link opened, a frame decoded, a timer fired, link closed), bytes to write and the next
// timer out. The gateway's session driver (gateway/session-driver.ts) owns the link, the clock and the timer.
import type { Decoded } from './decoded.js';

export interface SessionStep {
  /** Bytes to write to the device now, in order. */
  readonly write: readonly Buffer[];
  /** Call `timer` after this many ms; null: no timer (a pending one is cancelled). */
  readonly wakeInMs: number | null;
}

export interface ProtocolSession {
  /** Short state name, published as DeviceStatus.session ("requested", "streaming"...). */
  readonly state: string;
  /** The link is up. */
  opened(nowMs: number): SessionStep;
  /** A frame from the device decoded. */
  frame(d: Decoded, nowMs: number): SessionStep;
  timer(nowMs: number): SessionStep;
  /** The link went down; the next `opened` starts again. */
  closed(): void;
  /** The gateway stops: bytes that end the session politely (a Datex stop request). */
  stopping(): readonly Buffer[];
}

export const NOTHING: SessionStep = { write: [], wakeInMs: null };
