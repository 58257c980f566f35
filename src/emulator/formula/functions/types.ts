/** The shape every formula function shares, so the compiler can check arity before evaluating. */
import type { FormulaContext, FormulaRecord } from "../types.js";
import type { Value } from "../values.js";

/** What a function may read besides its arguments. */
export interface EvalEnv {
  record: FormulaRecord;
  context: FormulaContext;
}

export interface FormulaFunction {
  minArgs: number;
  maxArgs: number;
  /** Receives error arguments instead of the call failing with the first one (IF, SWITCH, ISERROR). */
  acceptsErrors?: boolean;
  apply(args: Value[], env: EvalEnv): Value;
}

export type FunctionTable = Readonly<Record<string, FormulaFunction>>;

/** A function taking `minArgs` to `maxArgs` arguments (Infinity for "and so on"). */
export function define(
  minArgs: number,
  maxArgs: number,
  apply: (args: Value[], env: EvalEnv) => Value,
  acceptsErrors = false,
): FormulaFunction {
  return { minArgs, maxArgs, apply, acceptsErrors };
}

/** Nested lists flattened into one (SUM({Lookup}, 3) sums the lookup's values and 3). */
export function flatten(values: readonly Value[]): Value[] {
  return values.flatMap((v) => (Array.isArray(v) ? flatten(v) : [v]));
}
