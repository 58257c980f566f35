/**
 * compile = parse + resolve: every field reference must name a field of the table and every call a
 * function the engine has, with an argument count it accepts, so a bad formula is refused before any
 * record is evaluated.
 */
import { evaluateNode, type Resolved } from "./evaluate.js";
import { lookupFunction, UNSUPPORTED_FUNCTIONS } from "./functions/index.js";
import { type Expr, parseFormula } from "./parser.js";
import {
  type CompiledFormula,
  type FormulaField,
  invalidFormula,
  unknownFields,
  unknownFunctions,
  unsupportedFunctions,
} from "./types.js";
import { isTruthy, toApiValue } from "./values.js";

/** Field names and call names a formula uses, in order of first use. */
function namesUsed(expr: Expr, fields: Set<string>, calls: Set<string>): void {
  switch (expr.kind) {
    case "field":
      fields.add(expr.name);
      return;
    case "call":
      calls.add(expr.name);
      for (const arg of expr.args) namesUsed(arg, fields, calls);
      return;
    case "negate":
      namesUsed(expr.operand, fields, calls);
      return;
    case "binary":
      namesUsed(expr.left, fields, calls);
      namesUsed(expr.right, fields, calls);
      return;
    case "literal":
      return;
  }
}

/** Refuses unknown fields, then unknown functions, then the ones the emulator does not evaluate. */
function checkNames(expr: Expr, byName: ReadonlyMap<string, FormulaField>): void {
  const fields = new Set<string>();
  const calls = new Set<string>();
  namesUsed(expr, fields, calls);
  const missingFields = [...fields].filter((name) => !byName.has(name));
  if (missingFields.length > 0) throw unknownFields(missingFields);
  const known = (name: string) => lookupFunction(name) || UNSUPPORTED_FUNCTIONS.has(name.toUpperCase());
  const missingCalls = [...calls].filter((name) => !known(name));
  if (missingCalls.length > 0) throw unknownFunctions(missingCalls);
  const unsupported = [...calls].filter((name) => UNSUPPORTED_FUNCTIONS.has(name.toUpperCase()));
  if (unsupported.length > 0) throw unsupportedFunctions(unsupported.map((name) => name.toUpperCase()));
}

/** The tree with fields and functions looked up; names were checked, so arity is all that is left. */
function resolve(expr: Expr, byName: ReadonlyMap<string, FormulaField>): Resolved {
  switch (expr.kind) {
    case "literal":
      return expr;
    case "field":
      return { kind: "field", field: byName.get(expr.name)! };
    case "negate":
      return { kind: "negate", operand: resolve(expr.operand, byName) };
    case "binary":
      return { ...expr, left: resolve(expr.left, byName), right: resolve(expr.right, byName) };
    case "call": {
      const fn = lookupFunction(expr.name)!;
      if (expr.args.length < fn.minArgs || expr.args.length > fn.maxArgs) {
        throw invalidFormula(`${expr.name.toUpperCase()} takes ${fn.minArgs}–${fn.maxArgs} arguments`);
      }
      return { kind: "call", fn, args: expr.args.map((arg) => resolve(arg, byName)) };
    }
  }
}

/**
 * Parses `source` against the table's fields; throws FormulaError for bad syntax, an unknown
 * function or a field the table does not have.
 */
export function compileFormula(source: string, fields: readonly FormulaField[]): CompiledFormula {
  const expr = parseFormula(source);
  const byName = new Map(fields.map((field) => [field.name, field]));
  checkNames(expr, byName);
  const tree = resolve(expr, byName);
  return {
    evaluate: (record, context) => toApiValue(evaluateNode(tree, { record, context })),
    matches: (record, context) => isTruthy(evaluateNode(tree, { record, context })),
  };
}
