// IEEE 11073-20601 medical floats as the Bluetooth SIG GATT characteristics carry them
// (little-endian): SFLOAT = 4-bit signed exponent (bits 15-12) + 12-bit signed mantissa
// (bits 11-0); FLOAT = 8-bit signed exponent (bits 31-24) + 24-bit signed mantissa.
// value = mantissa * 10^exponent. Special values are whole raw values (20601 Table 19/20):
// NaN, NRes (not at this resolution), +INF, -INF and one reserved code.

/** What a raw SFLOAT/FLOAT holds: a number or one of the special values. */
export const FloatKind = {
  NUMBER: 0,
  NAN: 1,
  NRES: 2,
  POS_INF: 3,
  NEG_INF: 4,
  RESERVED: 5,
} as const;
export type FloatKind = (typeof FloatKind)[keyof typeof FloatKind];

// 20601 Table 19: SFLOAT special values.
export const SFLOAT_NAN = 0x07ff;
export const SFLOAT_NRES = 0x0800;
export const SFLOAT_POS_INF = 0x07fe;
export const SFLOAT_NEG_INF = 0x0802;
export const SFLOAT_RESERVED = 0x0801;
// 20601 Table 20: FLOAT special values.
export const FLOAT_NAN = 0x007fffff;
export const FLOAT_NRES = 0x00800000;
export const FLOAT_POS_INF = 0x007ffffe;
export const FLOAT_NEG_INF = 0x00800002;
export const FLOAT_RESERVED = 0x00800001;

/** Largest mantissa magnitude of a finite value (the codes above it are the specials). */
export const SFLOAT_MANTISSA_MAX = 2045;
export const FLOAT_MANTISSA_MAX = 8388605;

// Exact powers of ten up to 1e22; dividing by an exact power keeps 365 * 10^-1 at 36.5.
const POW10: number[] = [];
for (let i = 0, p = 1; i <= 22; i++, p *= 10) POW10.push(p);

function scale(mantissa: number, exponent: number): number {
  if (exponent >= 0) return mantissa * (POW10[exponent] ?? 10 ** exponent);
  return mantissa / (POW10[-exponent] ?? 10 ** -exponent);
}

/** Kind of a raw 16-bit SFLOAT. */
export function sfloatKind(raw: number): FloatKind {
  switch (raw) {
    case SFLOAT_NAN:
      return FloatKind.NAN;
    case SFLOAT_NRES:
      return FloatKind.NRES;
    case SFLOAT_POS_INF:
      return FloatKind.POS_INF;
    case SFLOAT_NEG_INF:
      return FloatKind.NEG_INF;
    case SFLOAT_RESERVED:
      return FloatKind.RESERVED;
    default:
      return FloatKind.NUMBER;
  }
}

/** Numeric value of a raw SFLOAT; NaN for the specials (ask sfloatKind which one). */
export function sfloatValue(raw: number): number {
  if (sfloatKind(raw) !== FloatKind.NUMBER) return Number.NaN;
  const exponent = (raw << 16) >> 28; // sign-extend bits 15-12
  const mantissa = (raw << 20) >> 20; // sign-extend bits 11-0
  return scale(mantissa, exponent);
}

/** Kind of a raw 32-bit FLOAT (unsigned). */
export function floatKind(raw: number): FloatKind {
  switch (raw) {
    case FLOAT_NAN:
      return FloatKind.NAN;
    case FLOAT_NRES:
      return FloatKind.NRES;
    case FLOAT_POS_INF:
      return FloatKind.POS_INF;
    case FLOAT_NEG_INF:
      return FloatKind.NEG_INF;
    case FLOAT_RESERVED:
      return FloatKind.RESERVED;
    default:
      return FloatKind.NUMBER;
  }
}

/** Numeric value of a raw FLOAT (read as uint32); NaN for the specials. */
export function floatValue(raw: number): number {
  if (floatKind(raw) !== FloatKind.NUMBER) return Number.NaN;
  const exponent = raw >> 24; // int32 shift keeps the sign of bits 31-24
  const mantissa = (raw << 8) >> 8; // sign-extend bits 23-0
  return scale(mantissa, exponent);
}

/** Raw SFLOAT from a mantissa and exponent (for encoders); the caller keeps them in range. */
export function sfloatRaw(mantissa: number, exponent: number): number {
  return ((exponent & 0xf) << 12) | (mantissa & 0xfff);
}

/** Raw FLOAT (uint32) from a mantissa and exponent. */
export function floatRaw(mantissa: number, exponent: number): number {
  return (((exponent & 0xff) << 24) | (mantissa & 0xffffff)) >>> 0;
}
