// The one registry of vitalwire error codes. Codes are never reused or renamed; docs/errors.md
// documents each one and test/errors.test.ts keeps the two in step.

export const ERRORS = {
  // framing
  VW_ERR_FRAME_TOO_LARGE: 'frame exceeds the framer maximum; bytes dropped until the next frame start',
  VW_ERR_FRAME_GARBAGE: 'bytes outside any frame were skipped',
  VW_ERR_FRAME_TRUNCATED: 'a frame start arrived before the previous frame ended; the partial frame was dropped',
  // HL7 v2
  VW_ERR_HL7_NO_MSH: 'message does not start with an MSH segment',
  VW_ERR_HL7_BAD_ENCODING_CHARS: 'MSH-1/MSH-2 encoding characters are missing or invalid',
  VW_ERR_HL7_UNSUPPORTED_MESSAGE: 'message type is not one vitalwire decodes',
  VW_ERR_HL7_BAD_VALUE: 'an OBX value cannot be read for its value type',
  VW_ERR_HL7_BAD_TIME: 'an HL7 timestamp cannot be read',
  // gateway
  VW_ERR_LINK_OPEN: 'the device link could not be opened',
  VW_ERR_LINK_CLOSED: 'the device link closed unexpectedly',
  VW_ERR_CONFIG: 'the configuration is invalid',
  // broker and fan-out
  VW_ERR_AUTH_FAILED: 'authentication failed',
  VW_ERR_ACL_DENIED: 'the identity may not use this topic',
  VW_ERR_WS_ORIGIN: 'websocket upgrade from a foreign Origin refused',
  VW_ERR_WS_AUTH: 'websocket upgrade without a valid token refused',
  VW_ERR_WS_TOO_LARGE: 'websocket message exceeds the maximum size',
  // command line
  VW_ERR_USAGE: 'command line arguments are invalid',
} as const;

export type ErrorCode = keyof typeof ERRORS;

/** An error that carries a registry code, so callers branch on `code`, never on message text. */
export class VitalwireError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, detail?: string, options?: ErrorOptions) {
    super(detail ? `${ERRORS[code]}: ${detail}` : ERRORS[code], options);
    this.name = 'VitalwireError';
    this.code = code;
  }
}

/** Bad device input is a value, not an exception: decoders return these. */
export interface DecodeError {
  readonly code: ErrorCode;
  readonly detail: string;
}

export function decodeError(code: ErrorCode, detail: string): DecodeError {
  return { code, detail };
}
