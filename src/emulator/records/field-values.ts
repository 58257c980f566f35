/**
 * One cell written through the Web API: the value checked against its field's type, converted
 * when `typecast` is on, and normalised to what Airtable stores (an empty value is stored as no
 * value, so reads omit it). Anything a type cannot take is INVALID_VALUE_FOR_COLUMN; a select
 * value that is not a choice is INVALID_MULTIPLE_CHOICE_OPTIONS unless typecast may add it.
 */
import type { ApiErrorBody } from "../api-errors.js";
import type { SampleBase, SampleField } from "../sample-data.js";
import { invalidChoice, invalidValueForColumn, rowDoesNotExist } from "./errors.js";
import { isRecordId, newId } from "./ids.js";

/** What a cell write may consult and leave behind. */
export interface CellContext {
  typecast: boolean;
  /** Whether the user may add select choices (Airtable needs creator permission for that). */
  canCreateChoices: boolean;
  base: SampleBase;
  /** Choices typecast will add once the whole request is valid, by field. */
  pendingChoices: Map<SampleField, string[]>;
}

/** `undefined` is the empty cell. */
export type CellResult = { ok: true; value: unknown } | { ok: false; error: ApiErrorBody };

type Writer = (field: SampleField, input: unknown, context: CellContext) => CellResult;

/** Field types whose values Airtable computes; a write to one is refused. */
export const COMPUTED_TYPES: ReadonlySet<string> = new Set([
  "formula",
  "createdTime",
  "lastModifiedTime",
  "autoNumber",
  "rollup",
  "lookup",
  "multipleLookupValues",
  "count",
  "createdBy",
  "lastModifiedBy",
  "button",
]);

const ok = (value: unknown): CellResult => ({ ok: true, value });
const bad = (field: SampleField, why?: string): CellResult => ({
  ok: false,
  error: invalidValueForColumn(field.name, why),
});

const text: Writer = (field, input, { typecast }) => {
  if (typecast && (typeof input === "number" || typeof input === "boolean")) return ok(String(input));
  if (typeof input !== "string") return bad(field);
  return ok(input === "" ? undefined : input);
};

const number: Writer = (field, input, { typecast }) => {
  const value = typecast && typeof input === "string" && input.trim() !== "" ? Number(input) : input;
  return typeof value === "number" && Number.isFinite(value) ? ok(value) : bad(field);
};

const FALSE_WORDS = new Set(["", "false", "0", "no", "unchecked"]);

const checkbox: Writer = (field, input, { typecast }) => {
  const value = typecast && typeof input === "string" ? !FALSE_WORDS.has(input.trim().toLowerCase()) : input;
  if (typeof value !== "boolean") return bad(field);
  // An unchecked box is an empty cell: Airtable never returns `false`.
  return ok(value ? true : undefined);
};

function choiceNames(field: SampleField): string[] {
  const choices = field.options?.choices;
  if (!Array.isArray(choices)) return [];
  return choices.flatMap((c: unknown) =>
    typeof c === "object" && c !== null && "name" in c && typeof c.name === "string" ? [c.name] : [],
  );
}

/** A choice name, or the error; with typecast (and permission) an unknown name becomes pending. */
function choice(field: SampleField, name: string, context: CellContext): ApiErrorBody | undefined {
  if (choiceNames(field).includes(name)) return undefined;
  const pending = context.pendingChoices.get(field) ?? [];
  if (pending.includes(name)) return undefined;
  if (!context.typecast || !context.canCreateChoices) return invalidChoice(name);
  context.pendingChoices.set(field, [...pending, name]);
  return undefined;
}

const singleSelect: Writer = (field, input, context) => {
  const name = context.typecast && typeof input === "number" ? String(input) : input;
  if (typeof name !== "string") return bad(field);
  if (name === "") return ok(undefined);
  const error = choice(field, name, context);
  return error ? { ok: false, error } : ok(name);
};

const multipleSelects: Writer = (field, input, context) => {
  // Typecast reads "A, B" as two choices.
  const names =
    context.typecast && typeof input === "string"
      ? input
          .split(",")
          .map((n) => n.trim())
          .filter((n) => n !== "")
      : input;
  if (!Array.isArray(names) || !names.every((n): n is string => typeof n === "string")) return bad(field);
  const unique = [...new Set(names)];
  for (const name of unique) {
    const error = choice(field, name, context);
    if (error) return { ok: false, error };
  }
  return ok(unique.length ? unique : undefined);
};

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/** The instant a date or dateTime input names, or undefined when it names none. */
function parseInstant(input: unknown, typecast: boolean): Date | undefined {
  if (typeof input !== "string") return undefined;
  const strict = ISO_DATE.test(input) || ISO_DATE_TIME.test(input);
  if (!strict && !typecast) return undefined;
  const instant = new Date(ISO_DATE.test(input) ? `${input}T00:00:00.000Z` : input);
  return Number.isNaN(instant.getTime()) ? undefined : instant;
}

const date: Writer = (field, input, { typecast }) => {
  if (input === "") return ok(undefined);
  const instant = parseInstant(input, typecast);
  return instant ? ok(instant.toISOString().slice(0, 10)) : bad(field);
};

const dateTime: Writer = (field, input, { typecast }) => {
  if (input === "") return ok(undefined);
  const instant = parseInstant(input, typecast);
  return instant ? ok(instant.toISOString()) : bad(field);
};

/** Typecast links a name to the linked table's record whose primary field holds it. */
function linkTarget(field: SampleField, ref: string, context: CellContext): string | ApiErrorBody {
  const table = context.base.tables.find((t) => t.id === field.options?.linkedTableId);
  if (!table) return invalidValueForColumn(field.name, "its linked table is missing");
  if (isRecordId(ref)) {
    return table.records.some((r) => r.id === ref) ? ref : rowDoesNotExist(ref);
  }
  const primary = table.fields.find((f) => f.id === table.primaryFieldId);
  const match = context.typecast
    ? table.records.find((r) => primary && r.fields[primary.name] === ref)
    : undefined;
  return match ? match.id : invalidValueForColumn(field.name, `${JSON.stringify(ref)} is not a record ID`);
}

const recordLinks: Writer = (field, input, context) => {
  const refs = context.typecast && typeof input === "string" ? [input] : input;
  if (!Array.isArray(refs) || !refs.every((r): r is string => typeof r === "string")) return bad(field);
  const ids: string[] = [];
  for (const ref of refs) {
    const target = linkTarget(field, ref, context);
    if (typeof target !== "string") return { ok: false, error: target };
    if (!ids.includes(target)) ids.push(target);
  }
  return ok(ids.length ? ids : undefined);
};

/** Attachments are given by URL (Airtable downloads them later); an id keeps an existing one. */
const attachments: Writer = (field, input) => {
  if (!Array.isArray(input)) return bad(field);
  const stored: Record<string, unknown>[] = [];
  for (const item of input) {
    if (typeof item !== "object" || item === null || !("url" in item) || typeof item.url !== "string")
      return bad(field, "each attachment needs a url");
    if (!URL.canParse(item.url)) return bad(field, `${JSON.stringify(item.url)} is not a URL`);
    const filename =
      "filename" in item && typeof item.filename === "string"
        ? item.filename
        : (new URL(item.url).pathname.split("/").pop() ?? "");
    const id = "id" in item && typeof item.id === "string" ? item.id : newId("att");
    stored.push({ id, url: item.url, filename });
  }
  return ok(stored.length ? stored : undefined);
};

const WRITERS: Record<string, Writer> = {
  singleLineText: text,
  multilineText: text,
  richText: text,
  email: text,
  url: text,
  phoneNumber: text,
  number,
  currency: number,
  percent: number,
  duration: number,
  rating: number,
  checkbox,
  singleSelect,
  multipleSelects,
  date,
  dateTime,
  multipleRecordLinks: recordLinks,
  multipleAttachments: attachments,
};

/** Checks and converts one cell; `null` empties any writable cell. */
export function writeCell(field: SampleField, input: unknown, context: CellContext): CellResult {
  if (COMPUTED_TYPES.has(field.type)) return bad(field, "computed");
  if (input === null) return ok(undefined);
  const writer = WRITERS[field.type];
  if (!writer) return bad(field, `the emulator does not model ${field.type} values`);
  return writer(field, input, context);
}

/** Adds the choices typecast created (after the request is known to be valid). */
export function addPendingChoices(pending: Map<SampleField, string[]>): SampleField[] {
  const changed: SampleField[] = [];
  for (const [field, names] of pending) {
    const existing = Array.isArray(field.options?.choices) ? field.options.choices : [];
    field.options = {
      ...field.options,
      choices: [...existing, ...names.map((name) => ({ id: newId("sel"), name, color: "grayLight2" }))],
    };
    changed.push(field);
  }
  return changed;
}
