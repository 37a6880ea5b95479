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
  VW_ERR_HL7_MSH_SHIFTED: 'MSH fields arrive one position late (an extra empty field); read with the shift',
  // gateway
  VW_ERR_LINK_OPEN: 'the device link could not be opened',
  VW_ERR_LINK_CLOSED: 'the device link closed unexpectedly',
  VW_ERR_DEVICE_SILENT: 'the device link is up but the device sent no frame for longer than its silence threshold',
  VW_ERR_CONFIG: 'the configuration is invalid',
  // broker and fan-out
  VW_ERR_AUTH_FAILED: 'authentication failed',
  VW_ERR_ACL_DENIED: 'the identity may not use this topic',
  VW_ERR_WS_ORIGIN: 'websocket upgrade from a foreign Origin refused',
  VW_ERR_WS_AUTH: 'websocket upgrade without a valid token refused',
  VW_ERR_WS_TOO_LARGE: 'websocket message exceeds the maximum size',
  // command line
  VW_ERR_USAGE: 'command line arguments are invalid',
  VW_ERR_FORMAT_UNKNOWN: 'auto-detection recognised none of the supported formats in the first bytes',
  // central broker: limits, revocation, conformance, provisioning
  VW_ERR_PACKET_TOO_LARGE: 'an MQTT packet exceeds the broker maximum packet size',
  VW_ERR_RATE_LIMITED: 'an identity published faster than its publish rate limit',
  VW_ERR_CONN_LIMIT: 'an identity already holds its maximum number of connections',
  VW_ERR_SLOW_CONSUMER: 'a subscriber did not read its messages in time',
  VW_ERR_CERT_REVOKED: 'the client certificate has been revoked',
  VW_ERR_PROTOCOL: 'an MQTT 3.1.1 protocol violation closed the connection',
  VW_ERR_LAB_NOT_LOOPBACK: 'the conformance (lab) listener may only bind a loopback address',
  VW_ERR_PROVISION: 'a provisioning step (CA, gateway certificate, user) could not be done',
  VW_ERR_UNTESTED_DEPENDENCY:
    'an installed Aedes, mqtt-packet or ioredis version is not one the broker adapter was tested with',
  VW_ERR_ACCOUNT_CHANGED: 'a connected user was removed from the users file, or its password changed',
  VW_ERR_AUTH_THROTTLED:
    'too many failed password logins for this account or from this address; retry after the back-off',
  // BLE bridge (docs/ble-bridge.md)
  VW_ERR_BLE_BAD_LINE: 'a BLE bridge line is not in the documented VWB line format',
  VW_ERR_BLE_UNSUPPORTED_VERSION: 'a BLE bridge line carries a format version vitalwire does not read',
  VW_ERR_BLE_UNKNOWN_CHARACTERISTIC: 'a BLE notification comes from a characteristic vitalwire does not decode',
  VW_ERR_BLE_BAD_PAYLOAD: 'a BLE characteristic value is shorter than its flags require or otherwise malformed',
  VW_ERR_BLE_BAD_TIME: 'a BLE Date Time field is out of range',
  // Nonin and Masimo serial oximeters (docs/serial-oximeters.md)
  VW_ERR_NONIN_CHECKSUM: 'a Nonin frame failed its checksum or status-bit check; its packet was dropped',
  VW_ERR_NONIN_RANGE: 'a Nonin format 8 frame carries values outside the documented ranges',
  VW_ERR_MASIMO_SYNTAX: 'a Masimo line does not have the documented date, time and KEY=value layout',
  VW_ERR_MASIMO_BAD_VALUE: 'a Masimo field value cannot be read',
  // Datex-Ohmeda S/5 computer interface (docs/datex.md)
  VW_ERR_DATEX_CHECKSUM:
    'a Datex frame failed its 8-bit sum check (or is too short to carry one); the frame was dropped',
  VW_ERR_DATEX_ESCAPE: 'a Datex frame has 0x7D not followed by 0x5E or 0x5D; the frame was dropped',
  VW_ERR_DATEX_RECORD: 'a Datex record or subrecord does not fit its stated length or layout',
  VW_ERR_DATEX_UNSUPPORTED: 'a Datex record main type vitalwire does not decode (waveform, alarm, network)',
  // gateway runtime (docs/gateway.md): outbox, device links, clocks, uplink
  VW_ERR_OUTBOX_TORN:
    'an outbox segment ends in an incomplete or corrupt record; it was truncated at the last whole record',
  VW_ERR_OUTBOX_IO: 'writing or syncing the outbox failed',
  VW_ERR_OUTBOX_SHED: 'the outbox disk quota was reached and stored batches were shed',
  VW_ERR_MLLP_PEER_DENIED: 'an MLLP connection came from an address that is not an allowed peer',
  VW_ERR_LINK_LIMIT: 'a device link limit was reached (connections, idle time, frame time, pending messages)',
  VW_ERR_TIME_SUSPECT: 'a device timestamp is implausible (jump, future, roll-over)',
  VW_ERR_UPLINK: 'the broker connection failed or dropped',
  VW_ERR_PAYLOAD_INVALID: 'a published payload is not a vitalwire.v1.Batch as the contract defines it',
  VW_ERR_CAPTURE: 'the raw device capture could not be written or reached its size limit',
  VW_ERR_UNSENDABLE:
    'a Batch would exceed the uplink publish limit even split; it was set aside in the dead-letter log with a Gap',
  VW_ERR_TEXT_TRUNCATED:
    'a free text too long for a Batch was cut and flagged questionable; the whole item was set aside',
  // live fan-out and dashboard (docs/dashboard.md)
  VW_ERR_LOGIN_FAILED: 'dashboard login refused: unknown user, wrong password, or too many attempts',
  VW_ERR_WS_SCOPE: 'a dashboard asked for a bed outside its session scope',
  VW_ERR_WS_CONN_LIMIT: 'a user already holds the maximum number of dashboard connections',
  VW_ERR_WS_SLOW_CLIENT: 'a dashboard connection stayed unable to drain its queue and was closed',
  VW_ERR_WS_SESSION_EXPIRED: 'a dashboard session token expired without renewal',
  VW_ERR_WS_BAD_REQUEST: 'a dashboard control message is malformed or names an unknown operation',
  VW_ERR_AUDIT_UNAVAILABLE: 'the access audit log cannot be written, so beds are not opened',
  VW_ERR_USERS_UNAVAILABLE:
    'the users store cannot be read now: access that needs it is refused until it can (fail closed)',
  VW_ERR_LOGIN_THROTTLED: 'dashboard logins for this account or from this address are delayed after failed attempts',
  VW_ERR_WS_RATE_LIMITED: 'a dashboard sent control messages faster than its connection may',
  VW_ERR_FANOUT_BED_LIMIT: 'a new device was refused by the fan-out: its gateway or site holds its quota of devices',
  VW_ERR_WS_USER_REMOVED: 'a dashboard user was removed from the users store; their live sockets were closed',
  // clinical archive (docs/archive.md)
  VW_ERR_ARCHIVE_FULL: 'the archive journal reached its size limit; the Batch was not accepted',
  VW_ERR_ARCHIVE_IO: 'writing or syncing the archive journal failed; the Batch was not accepted',
  VW_ERR_ARCHIVE_TORN:
    'an archive journal segment ends in an incomplete record; it was truncated at the last whole record',
  VW_ERR_ARCHIVE_STORE: 'loading journaled Batches into the archive store failed; retried with backoff',
  VW_ERR_ARCHIVE_REJECT: 'an accepted payload is not a readable Batch on a stream topic; kept raw in the reject table',
  VW_ERR_ARCHIVE_CONFLICT:
    'a Batch reuses a stored key (site, gateway, device, kind, seq) with different content; kept apart',
  VW_ERR_BINDING: 'a bed/patient binding change was refused (overlap, unknown binding, bad time)',
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
