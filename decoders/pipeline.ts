// Framer + decoder for one byte stream: chunks in, decoded frames and coded errors out. The
// gateway's device loop, the decode CLI, the fuzzer and the fixture tests all use this one path.
import type { DecodeContext, Decoded } from './decoded.js';
import type { DecodeError, ErrorCode } from '../lib/errors.js';
import type { FramerStats } from './framing/framer.js';
import type { Protocol } from './registry.js';

export interface PipelineSink {
  decoded(d: Decoded, gatewayTimeUs: number): void;
  /** Framing errors and rejected frames. `frameLevel` is true for a frame the framer's check or the decoder rejected. */
  error(e: DecodeError, frameLevel: boolean): void;
}

export interface Pipeline {
  push(chunk: Buffer, gatewayTimeUs: number): void;
  /** End of input: report pending garbage or a partial frame. */
  end(): void;
  reset(): void;
  readonly stats: FramerStats;
}

export function createPipeline(
  p: Protocol,
  sink: PipelineSink,
  opts: { maxFrameBytes?: number; defaultUtcOffsetMin?: number } = {},
): Pipeline {
  const framer = p.createFramer(opts.maxFrameBytes !== undefined ? { maxFrameBytes: opts.maxFrameBytes } : {});
  const decoder = p.createDecoder();
  // One context object reused for every frame: no allocation per frame on the hot path.
  const ctx: DecodeContext = { gatewayTimeUs: 0, defaultUtcOffsetMin: opts.defaultUtcOffsetMin ?? 0 };
  const frameSink = {
    frame(frame: Buffer) {
      const r = decoder.decode(frame, ctx);
      if (r.ok) sink.decoded(r.value, ctx.gatewayTimeUs);
      else sink.error(r.error, true);
    },
    error(code: ErrorCode, detail: string, rejected?: boolean) {
      sink.error({ code, detail }, rejected === true);
    },
  };
  return {
    push(chunk, gatewayTimeUs) {
      ctx.gatewayTimeUs = gatewayTimeUs;
      framer.push(chunk, frameSink);
    },
    end: () => framer.flush(frameSink),
    reset: () => framer.reset(),
    stats: framer.stats,
  };
}
