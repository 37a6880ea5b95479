// A vendor map: what one manufacturer's (or gateway's) private codes and spellings mean in
// standard terms. Data only, no code: decoders read every map through decoders/vendor-maps/index.ts.
// How to add one: docs/decoders.md, "Vendor maps".

/** Alarm priority and source kind an alert code stands for (IEC 60601-1-8 words, as in PCD-04). */
export interface AlertMeaning {
  readonly priority?: 'high' | 'medium' | 'low' | 'none';
  readonly kind?: 'physiological' | 'technical' | 'advisory';
}

export interface VendorMap {
  /** Short id, used in docs and test names. */
  readonly id: string;
  /** Where the facts come from (document, page, sample), one line each. */
  readonly sources: readonly string[];
  /**
   * OBX-3/OBX-6 coding systems (component 3) whose identifier is `<partition>-<term>` in
   * hexadecimal and names the 11073-10101 term directly (Philips MDIL: `0002-4bb8` = 2:0x4BB8).
   */
  readonly hexPartitionTermSystems?: readonly string[];
  /** OBX-3 local codes (component 1, or the text after `/` for VitalRecorder) -> MDC reference id. */
  readonly codes?: Readonly<Record<string, string>>;
  /** Unit spellings that are not UCUM (or not the UCUM the sender means) -> UCUM. */
  readonly unitSpellings?: Readonly<Record<string, string>>;
  /** Coding system of free-text alarm rows (`TX` OBX) and what each alert code means. */
  readonly alerts?: { readonly codingSystem: string; readonly codes: Readonly<Record<string, AlertMeaning>> };
}
