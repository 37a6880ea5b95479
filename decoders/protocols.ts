// The list of built-in protocols, in auto-detection order. Each protocol module exports a
// `Protocol`; add one import and one entry here to register it.
import type { Protocol } from './registry.js';
import { createMllpFramer } from './framing/mllp.js';
import { createHl7Decoder } from './hl7/decoder.js';

const hl7: Protocol = {
  id: 'hl7',
  description: 'HL7 v2 IHE PCD-01 ORU^R01/W01 and PCD-04 ORU^R40, MLLP framed',
  createFramer: (opts) => createMllpFramer(opts),
  createDecoder: createHl7Decoder,
  detect: (head) => head.includes(0x0b) || head.subarray(0, 3).toString('latin1') === 'MSH',
};

export const BUILT_IN_PROTOCOLS: readonly Protocol[] = [hl7];
