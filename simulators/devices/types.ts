// The contract every simulated device meets: sans-I/O, as the decoders are. The runner advances the bed's patient,
// asks each device for what is due (`emit`), applies faults to the bytes and writes them through a transport; bytes
// the host sends back (a Datex transmission request, an MLLP ACK) come in through `receive`. Each emission carries
// its ground truth, written only once the bytes left intact.
import type { Truth } from '../ground-truth.js';
import type { Bed } from '../bed.js';

export const SIM_PROTOCOLS = ['hl7', 'nonin7', 'nonin8', 'masimo', 'datex', 'ble-bridge'] as const;
export type SimProtocol = (typeof SIM_PROTOCOLS)[number];

/** Vendor quirks a real device shows, switchable per device. */
export interface Quirks {
  /** HL7: OBX-8 DEMO on values, MSH-11 T (default true: simulated data says so). */
  demo?: boolean | undefined;
  /** No simulator marks at all: conformance tests only. */
  asReal?: boolean | undefined;
  /** Now and then a value is sent as "no value" (HL7 empty OBX-5 with OBX-11 X, Nonin 127/511, Masimo dashes,
   *  Datex -32767, BLE NaN): every this many frames (0 = never). */
  missingEvery?: number | undefined;
  /** HL7: a private code beside the MDC ones (Mindray 99MNDRY style) for ST. */
  localCodes?: boolean | undefined;
  /** HL7: OBX-3 in Philips MDIL form (`0002-4182^HR^MDIL`) instead of MDC. */
  mdil?: boolean | undefined;
}

export interface Emission {
  bytes: Buffer;
  /** What these bytes carry, written as ground truth once they are sent intact. */
  truth: Truth[];
  frame: number;
  /** HL7: the message control id (MSH-10); the MLLP client waits for its ACK. */
  controlId?: string;
}

export interface DeviceOptions {
  /** The device id in the gateway config (and in the ground truth). */
  id: string;
  bed: Bed;
  /** Bed number (sets labels and the simulated hardware ids). */
  bedNo: number;
  seed: number;
  quirks?: Quirks;
  /** UTC offset of the device's local clock (protocols that send local time). */
  utcOffsetMin?: number;
}

export interface SimDevice {
  readonly id: string;
  readonly protocol: SimProtocol;
  /** What is due by nowUs (simulation time, Unix microseconds). */
  emit(nowUs: number): Emission[];
  /** Bytes from the host (request/response protocols). */
  receive?(chunk: Buffer, nowUs: number): void;
  /** The device clock's offset from true time, ms (clock faults set it). */
  clockOffsetMs: number;
  /** The device restarts (power cycle): forgets requests and counters. */
  powerCycle?(): void;
  /** Frames emitted so far. */
  readonly frames: number;
  /** Datex: is the host's transmission request in force? */
  readonly requested?: boolean;
}
