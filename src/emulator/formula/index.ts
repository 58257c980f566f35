/**
 * Airtable's formula language, as `filterByFormula` uses it: parse once, evaluate per record.
 * An unknown function, an unknown field or bad syntax is a FormulaError (the routes answer 422
 * INVALID_FILTER_BY_FORMULA), never a silent pass.
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
  /** The formula's value for one record (string, number, boolean, null, or an array). */
  evaluate(record: FormulaRecord, context: FormulaContext): unknown;
  /** Whether the record passes as a filter (Airtable's truthiness: 0, "", null, false, [] fail). */
  matches(record: FormulaRecord, context: FormulaContext): boolean;
}

/** Why a formula was refused; `message` is the text the 422 carries. */
export class FormulaError extends Error {
  override readonly name = "FormulaError";
}

/**
 * Parses `source` against the table's fields; throws FormulaError for bad syntax, an unknown
 * function or a field the table does not have.
 */
export function compileFormula(source: string, fields: readonly FormulaField[]): CompiledFormula {
  void source;
  void fields;
  throw new FormulaError("filterByFormula is not supported yet.");
}
