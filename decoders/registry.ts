// Protocol registry: each wire protocol registers an id, a framer factory and a decoder.
// Gateway configuration picks a protocol by id.
import type { DecodeContext, DecodeResult } from './decoded.js';
import type { Framer } from './framing/framer.js';
import type { ProtocolSession } from './session.js';
import { BUILT_IN_PROTOCOLS } from './protocols.js';

/** Per-link decoding state (waveform sample counters, multiplexed values being assembled). */
export interface FrameDecoder {
  decode(frame: Buffer, ctx: DecodeContext): DecodeResult;
}

export interface Protocol {
  readonly id: string;
  readonly description: string;
  createFramer(opts?: { maxFrameBytes?: number }): Framer;
  /** One decoder per device link: streaming protocols keep state between frames. */
  createDecoder(): FrameDecoder;
  /** Auto-detection: does a stream that starts with these bytes look like this protocol? */
  detect?(head: Buffer): boolean;
  /** Request/response devices: the host-side session (decoders/session.ts) a link runs beside the decoder, built
   *  from the device's validated `session` options. Listen-only protocols have none. */
  createSession?(options: Readonly<Record<string, unknown>>): ProtocolSession;
}

const protocols = new Map<string, Protocol>();

export function registerProtocol(p: Protocol): void {
  if (protocols.has(p.id)) throw new Error(`protocol ${p.id} registered twice`);
  protocols.set(p.id, p);
}

export function getProtocol(id: string): Protocol | undefined {
  return protocols.get(id);
}

export function protocolIds(): string[] {
  return [...protocols.keys()];
}

for (const p of BUILT_IN_PROTOCOLS) registerProtocol(p);

/** Auto-detection: the first registered protocol whose detect() accepts the stream's first bytes. */
export function detectProtocol(head: Buffer): Protocol | undefined {
  for (const p of protocols.values()) if (p.detect?.(head)) return p;
  return undefined;
}
