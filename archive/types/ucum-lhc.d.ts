// NLM's UCUM library ships no typings; the archive's tests use one function of it.
declare module '@lhncbc/ucum-lhc' {
  const ucum: {
    UcumLhcUtils: { getInstance(): { validateUnitString(unit: string, suggest: boolean): { status: string } } };
  };
  export default ucum;
}
