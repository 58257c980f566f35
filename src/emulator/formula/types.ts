/**
 * The formula engine's public shapes and its one error class, kept apart from index.ts so the
 * lexer, parser and compiler can throw FormulaError without importing the entry point.
 */

/** A field a formula may reference, by `{Name}` (or a bare name without spaces). */
export interface FormulaField {
  id: string;
  name: string;
  type: string;
  options?: Record<string, unknown> | undefined;
}

/** What one evaluation sees. */
export interface FormulaRecord {
  id: string;
  createdTime: string;
  /** Cell values by field name, as the Web API returns them (absent = empty). */
  fields: Record<string, unknown>;
}

export interface FormulaContext {
  /** The emulator clock, for NOW() and TODAY(). */
  now: Date;
  /** IANA zone for date functions that need one; Airtable's API default is UTC. */
  timeZone?: string;
}

export interface CompiledFormula {
  /**
   * The formula's value for one record, as the Web API would show it: a string, number, boolean,
   * null or an array; a date as its ISO string; `{error: "#ERROR!"}` for a formula error and
   * `{specialValue: "NaN" | "Infinity" | "-Infinity"}` for those numbers.
   */
  evaluate(record: FormulaRecord, context: FormulaContext): unknown;
  /** Whether the record passes as a filter (Airtable's truthiness: 0, "", null, false, [] fail). */
  matches(record: FormulaRecord, context: FormulaContext): boolean;
}

/** Why a formula was refused; `message` is the text the 422 carries. */
export class FormulaError extends Error {
  override readonly name = "FormulaError";
}

/** The prefix of every INVALID_FILTER_BY_FORMULA message. */
const FILTER_PREFIX = "The formula for filtering records is invalid: ";

/** Airtable's text for a formula it cannot parse (or whose arguments do not fit a function). */
export function invalidFormula(detail: string): FormulaError {
  return new FormulaError(`${FILTER_PREFIX}Invalid formula. Please check your formula text.`, {
    cause: new Error(detail),
  });
}

/** Airtable's text for references to fields the table does not have. */
export function unknownFields(names: readonly string[]): FormulaError {
  return new FormulaError(`${FILTER_PREFIX}Unknown field names: ${names.join(", ")}`);
}

/** Airtable's text for calls of functions it does not have. */
export function unknownFunctions(names: readonly string[]): FormulaError {
  return new FormulaError(`${FILTER_PREFIX}Unknown function names: ${names.join(", ")}`);
}

/** A function Airtable has but the emulator cannot evaluate faithfully: refused loudly, never guessed. */
export function unsupportedFunctions(names: readonly string[]): FormulaError {
  return new FormulaError(
    `${FILTER_PREFIX}The Airlock emulator does not support these formula functions: ${names.join(", ")}`,
  );
}
