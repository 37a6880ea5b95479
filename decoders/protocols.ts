// The list of built-in protocols, in auto-detection order. Each protocol module exports a
// `Protocol`; add one import and one entry here to register it.
import type { Protocol } from './registry.js';
import { createHl7Framer } from './framing/hl7-auto.js';
import { createHl7Decoder } from './hl7/decoder.js';
import { datexProtocol } from './datex/index.js';
import { bleBridgeProtocol } from './ble/index.js';
import { nonin7Protocol, nonin8Protocol } from './nonin/index.js';
import { masimoProtocol } from './masimo/index.js';

const hl7: Protocol = {
  id: 'hl7',
  description: 'HL7 v2 IHE PCD-01 ORU^R01/W01 and PCD-04 ORU^R40, MLLP framed',
  createFramer: (opts) => createHl7Framer(opts),
  createDecoder: createHl7Decoder,
  detect: (head) => head.includes(0x0b) || head.subarray(0, 3).toString('latin1') === 'MSH',
};

// nonin7 (two matching checksums), masimo (a timestamped SPO2= line) and datex (a plausible record
// header after 0x7E) are tested before hl7,
// whose 0x0B test also matches binary oximeter streams; nonin8 (bit-7 layout only) goes last.
export const BUILT_IN_PROTOCOLS: readonly Protocol[] = [
  nonin7Protocol,
  masimoProtocol,
  datexProtocol,
  hl7,
  bleBridgeProtocol,
  nonin8Protocol,
];
