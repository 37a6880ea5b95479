// Masimo Radical-7 serial output ("ASCII 1", 9600 8N1, one line a second): line framing, decoder
// and detection.
// Lines end with CR LF; the shared delimited framer splits on LF and strips the CR, so LF-only
// lines read the same, and the decoder ignores a leading CR (LF CR senders). A sender that ends
// lines with a bare CR is not supported: its lines would run together up to the size limit.
import { createDelimitedFramer } from '../framing/delimited.js';
import type { Protocol } from '../registry.js';
import { MASIMO_MAX_LINE_BYTES, createMasimoDecoder } from './decoder.js';

const SIGNATURE = /\d\d\/\d\d\/\d\d \d\d:\d\d:\d\d .*SPO2=/;

export function detectMasimo(head: Buffer): boolean {
  return SIGNATURE.test(head.toString('latin1'));
}

export const masimoProtocol: Protocol = {
  id: 'masimo',
  description: 'Masimo Radical-7 serial ASCII output: one MM/dd/yy HH:mm:ss KEY=value line a second',
  createFramer: (opts) => createDelimitedFramer({ maxFrameBytes: opts?.maxFrameBytes ?? MASIMO_MAX_LINE_BYTES }),
  createDecoder: createMasimoDecoder,
  detect: detectMasimo,
};
