// Types for the part of @lhncbc/ucum-lhc (7.1, CommonJS, no typings of its own) that
// decoders/units/ucum.ts uses. Only that adapter imports the package.
declare module '@lhncbc/ucum-lhc' {
  interface UcumUnit {
    csCode_: string;
    property_: string;
    magnitude_: number;
    isSpecial_: boolean;
    isArbitrary_: boolean;
    dim_: { dimVec_: number[] | null };
  }
  interface SpecifiedUnit {
    unit: UcumUnit | null;
    status: string;
  }
  interface ConvertResult {
    status: string;
    toVal: number | null;
  }
  export const UcumLhcUtils: {
    getInstance(): {
      getSpecifiedUnit(unit: string, valConv: 'validate' | 'convert', suggest?: boolean): SpecifiedUnit;
      validateUnitString(unit: string, suggest?: boolean): { status: string; ucumCode: string | null };
      convertUnitTo(from: string, value: number, to: string): ConvertResult;
    };
  };
}
