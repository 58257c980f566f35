/** Logical functions: AND, OR, XOR, NOT, IF, SWITCH, TRUE, FALSE, BLANK, ERROR, ISERROR. */
import { compareValues, ErrorValue, isTruthy, type Value } from "../values.js";
import { define, type FunctionTable } from "./types.js";

/** SWITCH(expression, [pattern, result]..., [default]): the result of the first pattern equal to it. */
function switchValue(args: Value[]): Value {
  const [subject, ...cases] = args;
  if (subject instanceof ErrorValue) return subject;
  for (let i = 0; i + 1 < cases.length; i += 2) {
    const pattern = cases[i]!;
    if (!(pattern instanceof ErrorValue) && compareValues(subject!, pattern) === 0) return cases[i + 1]!;
  }
  return cases.length % 2 === 1 ? cases[cases.length - 1]! : null;
}

export const logicFunctions: FunctionTable = {
  AND: define(1, Infinity, (args) => args.every(isTruthy)),
  OR: define(1, Infinity, (args) => args.some(isTruthy)),
  XOR: define(1, Infinity, (args) => args.filter(isTruthy).length % 2 === 1),
  NOT: define(1, 1, ([value]) => !isTruthy(value!)),
  IF: define(
    2,
    3,
    ([test, then, otherwise]) => {
      if (test instanceof ErrorValue) return test;
      return isTruthy(test!) ? then! : (otherwise ?? null);
    },
    true,
  ),
  SWITCH: define(2, Infinity, switchValue, true),
  TRUE: define(0, 0, () => true),
  FALSE: define(0, 0, () => false),
  BLANK: define(0, 0, () => null),
  ERROR: define(0, 0, () => new ErrorValue("ERROR()")),
  ISERROR: define(1, 1, ([value]) => value instanceof ErrorValue, true),
};
