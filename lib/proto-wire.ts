// Protocol Buffers wire types (protobuf.dev/programming-guides/encoding): one definition for the modules that walk
// Batch bytes without decoding them to objects (lib/batch-check.ts, archive/wave-wire.ts).
export const VARINT = 0;
export const I64 = 1;
export const LEN = 2;
export const I32 = 5;
