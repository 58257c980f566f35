/** Evaluates a resolved formula tree for one record: operators here, functions in functions/. */
import type { EvalEnv, FormulaFunction } from "./functions/index.js";
import type { Operator } from "./lexer.js";
import type { FormulaField } from "./types.js";
import { cellValue, compareValues, ErrorValue, firstError, toNumber, toText, type Value } from "./values.js";

/** A parsed formula whose fields and functions have been found. */
export type Resolved =
  | { kind: "literal"; value: string | number }
  | { kind: "field"; field: FormulaField }
  | { kind: "call"; fn: FormulaFunction; args: Resolved[] }
  | { kind: "negate"; operand: Resolved }
  | { kind: "binary"; op: Operator; left: Resolved; right: Resolved };

/** An arithmetic operand: text that is not a number (or a date) makes the operation an error. */
function operand(value: Value): number | ErrorValue {
  const n = toNumber(value);
  return Number.isNaN(n) && typeof value !== "number" ? new ErrorValue(`not a number: ${toText(value)}`) : n;
}

function arithmetic(op: "+" | "-" | "*" | "/", a: number, b: number): Value {
  switch (op) {
    case "+":
      return a + b;
    case "-":
      return a - b;
    case "*":
      return a * b;
    case "/":
      return b === 0 ? new ErrorValue("division by zero") : a / b;
  }
}

function comparison(op: "=" | "!=" | "<" | ">" | "<=" | ">=", left: Value, right: Value): boolean {
  const order = compareValues(left, right);
  if (op === "!=") return order !== 0;
  if (order === undefined) return false;
  if (op === "=") return order === 0;
  if (op === "<") return order < 0;
  if (op === ">") return order > 0;
  return op === "<=" ? order <= 0 : order >= 0;
}

function binary(op: Operator, left: Value, right: Value): Value {
  const error = firstError([left, right]);
  if (error) return error;
  if (op === "&") return toText(left) + toText(right);
  if (op === "+" || op === "-" || op === "*" || op === "/") {
    const a = operand(left);
    const b = operand(right);
    if (a instanceof ErrorValue) return a;
    if (b instanceof ErrorValue) return b;
    return arithmetic(op, a, b);
  }
  return comparison(op, left, right);
}

/** The value of `node` for the record in `env`. */
export function evaluateNode(node: Resolved, env: EvalEnv): Value {
  switch (node.kind) {
    case "literal":
      return node.value;
    case "field":
      return cellValue(node.field, env.record.fields[node.field.name]);
    case "negate": {
      const value = evaluateNode(node.operand, env);
      if (value instanceof ErrorValue) return value;
      const n = operand(value);
      return n instanceof ErrorValue ? n : -n;
    }
    case "binary":
      return binary(node.op, evaluateNode(node.left, env), evaluateNode(node.right, env));
    case "call": {
      const args = node.args.map((arg) => evaluateNode(arg, env));
      const error = node.fn.acceptsErrors ? undefined : firstError(args);
      return error ?? node.fn.apply(args, env);
    }
  }
}
