// Silence: a device whose link is up but which sends nothing. The gateway cannot tell a monitor that stopped from one
// that has nothing to say, so it judges by how often the protocol (or the device's configuration) says frames come,
// and after a margin of several periods declares the device SILENT. This file holds the protocol defaults, how a
// device's config overrides them, and the diagnosis a person reads in the status.

/**
 * How often each protocol's devices send a frame when working, in ms; null: not periodic (silence is not judged
 * unless the device's config gives a period). A test keeps this table in step with the decoder registry.
 */
export const PROTOCOL_PERIOD_MS: Readonly<Record<string, number | null>> = {
  // Nonin Data Format 7: 75 frames/s, continuously (docs/shared protocols, Nonin Data Format 7).
  nonin7: 1000 / 75,
  // Nonin Data Format 8: one 4-byte frame a second.
  nonin8: 1000,
  // Masimo Radical-7 serial ASCII: one line a second.
  masimo: 1000,
  // Datex-Ohmeda S/5 computer interface: displayed numerics at the interval the host requested, every few seconds.
  datex: 5000,
  // HL7 PCD-01 monitors send at their configured interval: between one second and one minute in practice; the
  // default takes the slowest so a slow sender is never called silent. Set the monitor's own interval per device.
  hl7: 60_000,
  // BLE bridges by profile: Heart Rate Measurement and PLX Continuous notify about once a second. A bridge carrying
  // only episodic measurements (blood pressure, thermometer, PLX spot-check) sends only when one is taken: set
  // `silence: off` for it.
  'ble-bridge': 1000,
};

/** A device is silent after this many of its periods without a frame ... */
export const SILENCE_PERIODS = 3;
/** ... and never sooner than this: serial drivers and USB adapters deliver in bursts, an event loop can stall. */
export const SILENCE_MIN_MS = 3000;

/** `devices[].silence` in the gateway config. */
export type SilenceConfig = 'off' | { readonly periodMs?: number | undefined; readonly afterMs?: number | undefined };

/** After how many ms without a good frame the device is SILENT; null when silence is not judged. */
export function silenceAfterMs(protocol: string, cfg: SilenceConfig | undefined): number | null {
  if (cfg === 'off') return null;
  if (cfg?.afterMs !== undefined) return cfg.afterMs;
  const period = cfg?.periodMs ?? PROTOCOL_PERIOD_MS[protocol] ?? null;
  if (period === null) return null;
  return Math.max(SILENCE_MIN_MS, Math.ceil(SILENCE_PERIODS * period));
}

/**
 * What a person can act on (DeviceStatus.diagnosis): whether bytes still arrive tells a device that stopped (off,
 * export disabled, cable) from one whose bytes the gateway cannot read (protocol, baud rate, framing). `hint` ends the
 * second sentence with what the bytes look like instead (gateway/diagnosis.ts). No values.
 */
export function silenceDiagnosis(o: {
  silentMs: number;
  protocol: string;
  bytes: number;
  badFrames: number;
  neverFramed: boolean;
  hint?: string;
}): string {
  const s = Math.round(o.silentMs / 1000);
  const since = o.neverFramed ? `since the link opened (${s} s)` : `for ${s} s`;
  if (o.bytes === 0) {
    // Datex S/5 computer interface: the monitor sends records only after a transmission request from the host.
    const asked = o.protocol === 'datex' ? ' (an S/5 sends only after the gateway requests a transmission)' : '';
    return `no bytes from the device ${since}: is it on, and is its data output enabled and cabled?${asked}`;
  }
  const rejected = o.badFrames > 0 ? `, ${o.badFrames} frames rejected` : '';
  return `${o.bytes} bytes but no valid ${o.protocol} frame ${since}${rejected}: ${o.hint ?? 'check the protocol, baud rate and framing'}`;
}
