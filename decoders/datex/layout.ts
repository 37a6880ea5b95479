// Byte layout of the Datex-Ohmeda Record (S/5, AS/3, CARESCAPE computer interface), little-endian,
// packed (#pragma pack(1)). The facts come from two independent public definitions that agree
// field for field, and sizes are checked against their own size annotations:
//   [VSC]  xeonfusion/VSCapture, VSCapture/Class2.cs (datex_hdr_type Size=40, basic_phdb_type Size=270,
//          group structs with Size attributes) and Class1.cs (scaling used when printing values)
//   [WEI]  wei2374/monitor_serial, datex.h (datex_hdr, dri_phdb "278 byte", basic_phdb, group_hdr,
//          phdb_status_bits {exists:1, active:1})
//   [KAI]  KaiWU17TUM/icu_devices, code/ge_monitor.cpp (same scaling as [VSC]; subrecord data read at
//          data[4 + sr_offset], i.e. after dri_phdb.time)
// Status-bit meanings beyond exists/active and the label enumerations come from DRI field tables in
// two further public code files (a Python "GROUPS" table and a Rust status_bits module, both found
// by the code search without a repository name); they only add flags and channel names.

/** Record header: r_len i16, r_nbr u8, r_dri_level u8, plug_id u16, r_time u32, 2+2 reserved bytes,
 *  r_maintype i16, then 8 subrecord descriptors {sr_offset i16, sr_type u8}. [VSC][WEI] */
export const HDR = {
  SIZE: 40,
  R_LEN: 0,
  R_NBR: 2,
  R_DRI_LEVEL: 3,
  PLUG_ID: 4,
  R_TIME: 6,
  R_MAINTYPE: 14,
  SR_DESC: 16,
  SR_DESC_SIZE: 3,
  SR_COUNT: 8,
} as const;

/** Largest record: datex_record_type is 40 + 1450 bytes (Size=1490) [VSC]. */
export const MAX_RECORD_BYTES = 1490;

/** r_maintype values [VSC DataConstants][WEI]. */
export const MAINTYPE = { PHDB: 0, WAVE: 1, ALARM: 4, NETWORK: 5, FO: 8 } as const;

/** sr_type that ends the descriptor list [VSC RequestTransfer][WEI DRI_EOL_SUBR_LIST]. */
export const SR_END = 0xff;

/** PHDB subrecord types: displayed values, 10 s and 60 s trends, auxiliary info [VSC][WEI]. */
export const PH_SUBTYPE = { DISPL: 1, TREND_10S: 2, TREND_60S: 3, AUX_INFO: 4 } as const;

/** dri_phdb: time u32, one 270-byte class block (union), marker u8, reserved u8, cl_drilvl_subt u16 [WEI]. */
export const PHDB = {
  SIZE: 278,
  TIME: 0,
  CLASS_BLOCK: 4,
  CLASS_BLOCK_SIZE: 270,
  MARKER: 274,
  CL_DRILVL_SUBT: 276,
} as const;

/** Class of a dri_phdb: bits 8-11 of cl_drilvl_subt (one public source only, the Rust decoder;
 *  [VSC] and [KAI] instead assume the subrecords come in class order). 0 = basic. */
export function phdbClass(clDrilvlSubt: number): number {
  return (clDrilvlSubt >> 8) & 0x0f;
}

/** Every group starts with group_hdr: status u32 then label u16 [VSC group_hdr_type Size=6][WEI]. */
export const GROUP_HDR = { STATUS: 0, LABEL: 4, SIZE: 6 } as const;

/** phdb_status_bits: bit 0 module exists, bit 1 measurement active [WEI]. */
export const STATUS_EXISTS = 1 << 0;
export const STATUS_ACTIVE = 1 << 1;

/** Measurement sentinels (DataConstants in [VSC]; [WEI] lacks DISCONT). Values from -32001 down are
 *  reserved, so -32000 is the smallest valid value; [VSC] tests `< -32001`, which would let -32001
 *  through: we treat -32001 and below as invalid. */
export const DATA = {
  INVALID_LIMIT: -32001,
  INVALID: -32767,
  NOT_UPDATED: -32766,
  DISCONT: -32765,
  UNDER_RANGE: -32764,
  OVER_RANGE: -32763,
  NOT_CALIBRATED: -32762,
} as const;

/** Offsets of the basic_phdb groups inside the 270-byte class block, from the struct order and sizes
 *  in [VSC] and [WEI]: ecg 16, p1..p4 14 each, nibp 14, t1..t4 8 each, SpO2 14, co2 14, o2 10, n2o 10,
 *  aa 12, flow_vol 22, co_wedge 14, nmt 12, ecg_extra 6 (no header), svo2 8, p5..p6 14 each, reserved 2. */
export const BASIC = {
  ECG: 0,
  P1: 16,
  P2: 30,
  P3: 44,
  P4: 58,
  NIBP: 72,
  T1: 86,
  T2: 94,
  T3: 102,
  T4: 110,
  SPO2: 118,
  CO2: 132,
  O2: 146,
  N2O: 156,
  AA: 166,
  FLOW_VOL: 178,
  CO_WEDGE: 200,
  NMT: 214,
  ECG_EXTRA: 226,
  SVO2: 232,
  P5: 240,
  P6: 254,
  END: 270,
} as const;

/** Field offsets inside a group, header included. */
export const ECG_F = { HR: 6, ST1: 8, ST2: 10, ST3: 12, IMP_RR: 14 } as const; // ecg_group
export const P_F = { SYS: 6, DIA: 8, MEAN: 10, HR: 12 } as const; // p_group and nibp_group
export const T_F = { TEMP: 6 } as const; // t_group
export const SPO2_F = { SPO2: 6, PR: 8, IR_AMP: 10, SVO2: 12 } as const; // SpO2_pl_group
export const CO2_F = { ET: 6, FI: 8, RR: 10, AMB_PRESS: 12 } as const; // co2_group

/** Status and label bits that add flags (Python GROUPS table and Rust status_bits, see top). */
export const ECG_STATUS_ARTIFACT = 1 << 8;
export const P_STATUS_ZEROING = 1 << 2;
export const CO2_STATUS_CALIBRATING = 1 << 3;
export const CO2_STATUS_ZEROING = 1 << 4;
export const NIBP_LABEL_CALIBRATING = 1 << 7;

/** Invasive pressure channel labels (p_group hdr.label). */
export const P_LABELS = [
  '',
  'ART',
  'CVP',
  'PA',
  'RAP',
  'RVP',
  'LAP',
  'ICP',
  'ABP',
  'P1',
  'P2',
  'P3',
  'P4',
  'P5',
  'P6',
  'SP',
  'FEM',
  'UAC',
  'UVC',
  'ICP2',
  'P7',
  'P8',
  'FEMV',
] as const;

/** Temperature site labels (t_group hdr.label). */
export const T_LABELS = [
  '',
  'ESO',
  'NASO',
  'TYMP',
  'RECT',
  'BLAD',
  'AXIL',
  'SKIN',
  'AIRW',
  'ROOM',
  'MYO',
  'T1',
  'T2',
  'T3',
  'T4',
  'CORE',
  'SURF',
] as const;

/** Basic-class group offsets by name, in struct order (used by the encoder and tests). */
export const P_GROUPS = [BASIC.P1, BASIC.P2, BASIC.P3, BASIC.P4, BASIC.P5, BASIC.P6] as const;
export const T_GROUPS = [BASIC.T1, BASIC.T2, BASIC.T3, BASIC.T4] as const;
