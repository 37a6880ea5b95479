// The framer contract shared by every wire protocol: chunks in, frames out, no I/O.
// Frames are delivered through callbacks so the hot path allocates no arrays; a frame that
// lies inside one chunk is a view of that chunk (no copy). Errors are reported once per
// event, whatever the chunking: a garbage run split over many chunks is one
// VW_ERR_FRAME_GARBAGE, reported when the run ends (at the next frame start, or at flush).
import type { ErrorCode } from '../../lib/errors.js';

export interface FramerStats {
  frames: number;
  garbageBytes: number;
  errors: number;
}

export interface FrameSink {
  frame(frame: Buffer): void;
  /**
   * A framing error. `rejected`: a whole frame was delimited and failed the protocol's own check (checksum, escape),
   * so it counts as a bad frame, as one the decoder rejects does; garbage between frames and truncation do not.
   */
  error(code: ErrorCode, detail: string, rejected?: boolean): void;
}

export interface Framer {
  /** Feed bytes; complete frames and framing errors are reported to the sink synchronously. */
  push(chunk: Buffer, sink: FrameSink): void;
  /**
   * End of input (file end, link closed): report what is pending, i.e. a garbage run not yet
   * reported or a partial frame (VW_ERR_FRAME_TRUNCATED), then reset.
   */
  flush(sink: FrameSink): void;
  /** Forget any partial frame without reporting it (e.g. after the link dropped). */
  reset(): void;
  readonly stats: FramerStats;
}
