/** Every function the engine knows, by upper-case name, and those Airtable has that it refuses. */
import { dateFunctions } from "./dates.js";
import { logicFunctions } from "./logic.js";
import { numberFunctions } from "./numbers.js";
import { recordFunctions } from "./records.js";
import { textFunctions } from "./text.js";
import type { FormulaFunction } from "./types.js";

export type { EvalEnv, FormulaFunction } from "./types.js";

const FUNCTIONS: ReadonlyMap<string, FormulaFunction> = new Map(
  Object.entries({
    ...logicFunctions,
    ...textFunctions,
    ...numberFunctions,
    ...dateFunctions,
    ...recordFunctions,
  }),
);

/**
 * Airtable functions the emulator cannot evaluate faithfully: LAST_MODIFIED_TIME needs per-field edit
 * times the records do not carry; the others need a zone-aware date value, a holiday calendar or
 * locale-relative wording. A formula using one is refused, not guessed at.
 */
export const UNSUPPORTED_FUNCTIONS: ReadonlySet<string> = new Set([
  "LAST_MODIFIED_TIME",
  "SET_TIMEZONE",
  "SET_LOCALE",
  "WORKDAY",
  "WORKDAY_DIFF",
  "FROMNOW",
  "TONOW",
]);

/** The function called `name` (any case), or undefined. */
export function lookupFunction(name: string): FormulaFunction | undefined {
  return FUNCTIONS.get(name.toUpperCase());
}
