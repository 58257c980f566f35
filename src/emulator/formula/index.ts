/**
 * Airtable's formula language, as `filterByFormula` uses it: parse once, evaluate per record.
 * An unknown function, an unknown field or bad syntax is a FormulaError (the routes answer 422
 * INVALID_FILTER_BY_FORMULA), never a silent pass.
 *
 * @example
 * const formula = compileFormula("AND({Status} = 'Shipped', {Priority} >= 3)", table.fields);
 * const passing = table.records.filter((record) => formula.matches(record, { now: clock.now() }));
 */
export { compileFormula } from "./compile.js";
export {
  type CompiledFormula,
  type FormulaContext,
  FormulaError,
  type FormulaField,
  type FormulaRecord,
} from "./types.js";
