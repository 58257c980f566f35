/** The record's own facts (RECORD_ID, CREATED_TIME) and the list functions (ARRAYJOIN and friends). */
import { parseDateText } from "../datetime.js";
import { ErrorValue, isBlank, toNumber, toText, type Value } from "../values.js";
import { define, type FunctionTable, flatten } from "./types.js";

const asList = (value: Value): Value[] => (Array.isArray(value) ? value : isBlank(value) ? [] : [value]);

/** ARRAYSLICE's 1-based, end-inclusive positions; negative ones count from the end (UNCONFIRMED). */
function arraySlice([list, start, end]: Value[]): Value {
  const items = asList(list!);
  const from = Math.trunc(toNumber(start!));
  const to = end === undefined ? items.length : Math.trunc(toNumber(end));
  if (Number.isNaN(from) || Number.isNaN(to)) return new ErrorValue("bad position");
  const index = (n: number) => (n < 0 ? items.length + n : n - 1);
  return items.slice(Math.max(0, index(from)), index(to) + 1);
}

export const recordFunctions: FunctionTable = {
  RECORD_ID: define(0, 0, (_args, env) => env.record.id),
  CREATED_TIME: define(0, 0, (_args, env) => parseDateText(env.record.createdTime) ?? env.record.createdTime),
  ARRAYJOIN: define(1, 2, ([list, separator]) =>
    flatten(asList(list!))
      .map(toText)
      .join(separator === undefined ? ", " : toText(separator)),
  ),
  ARRAYUNIQUE: define(1, 1, ([list]) => {
    const seen = new Set<string>();
    return flatten(asList(list!)).filter((v) => {
      const key = `${typeof v}:${toText(v)}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  }),
  ARRAYCOMPACT: define(1, 1, ([list]) => flatten(asList(list!)).filter((v) => v !== null && v !== "")),
  ARRAYFLATTEN: define(1, 1, ([list]) => flatten(asList(list!))),
  ARRAYSLICE: define(2, 3, arraySlice),
};
