/**
 * Formula values and Airtable's coercions between them: what a cell becomes inside a formula, what
 * text, number, date and truth a value has, how two values compare, and what the Web API shows.
 */
import { parseDateText } from "./datetime.js";
import type { FormulaField } from "./types.js";

/** A formula error (Airtable's #ERROR!): a value, so it flows through operators to the result. */
export class ErrorValue {
  constructor(readonly reason: string) {}
}

export type Value = string | number | boolean | null | Date | ErrorValue | Value[];

/** The first error among `values`, if any (most operators and functions pass errors on). */
export function firstError(values: readonly Value[]): ErrorValue | undefined {
  return values.find((v): v is ErrorValue => v instanceof ErrorValue);
}

/** BLANK(): an empty cell, an empty string or an empty list. */
export function isBlank(value: Value): boolean {
  return value === null || value === "" || (Array.isArray(value) && value.length === 0);
}

/** Airtable's filter truth: 0, false, "", NaN, [], blank and errors fail; everything else passes. */
export function isTruthy(value: Value): boolean {
  if (value instanceof ErrorValue || value === null) return false;
  if (value instanceof Date) return !Number.isNaN(value.getTime());
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === "number") return value !== 0 && !Number.isNaN(value);
  return value !== "" && value !== false;
}

/** A value as text: blank is "", true/false are "1"/"0", a date its ISO string, a list joined with ", ". */
export function toText(value: Value): string {
  if (value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number") return String(value);
  if (typeof value === "boolean") return value ? "1" : "0";
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? "" : value.toISOString();
  if (value instanceof ErrorValue) return "#ERROR!";
  return value.map(toText).join(", ");
}

const NUMERIC_TEXT = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;

/** A value as a number: blank and "" are 0, true/false 1/0, numeric text its number, anything else NaN. */
export function toNumber(value: Value): number {
  if (value === null) return 0;
  if (typeof value === "number") return value;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (value instanceof Date || value instanceof ErrorValue) return Number.NaN;
  const text = typeof value === "string" ? value.trim() : toText(value).trim();
  if (text === "") return 0;
  return NUMERIC_TEXT.test(text) ? Number(text) : Number.NaN;
}

/** A value as a date: a date as is, text read as ISO 8601 (or M/D/YYYY); undefined for anything else. */
export function toDate(value: Value): Date | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value;
  if (typeof value === "string") return parseDateText(value);
  if (Array.isArray(value) && value.length === 1) return toDate(value[0]!);
  return undefined;
}

/** The number an operand of a comparison with a number stands for, or undefined to compare as text. */
function numericOperand(value: Value): number | undefined {
  if (value === null) return 0;
  if (typeof value === "number" || typeof value === "boolean") return toNumber(value);
  if (typeof value === "string") {
    const n = toNumber(value);
    return Number.isNaN(n) ? undefined : n;
  }
  return undefined;
}

function sign(difference: number): number | undefined {
  if (Number.isNaN(difference)) return undefined;
  return difference < 0 ? -1 : difference > 0 ? 1 : 0;
}

/**
 * How `a` stands to `b`: -1, 0, 1, or undefined when they cannot be ordered (a blank or unreadable
 * date against a date). Dates compare as instants, numbers (with blank as 0) as numbers, the rest
 * (lists joined with ", ") as case-sensitive text.
 */
export function compareValues(a: Value, b: Value): number | undefined {
  const x = Array.isArray(a) ? (a.length === 0 ? null : toText(a)) : a;
  const y = Array.isArray(b) ? (b.length === 0 ? null : toText(b)) : b;
  if (x === null && y === null) return 0;
  if (x instanceof Date || y instanceof Date) {
    const dx = x === null ? undefined : toDate(x);
    const dy = y === null ? undefined : toDate(y);
    return dx && dy ? sign(dx.getTime() - dy.getTime()) : undefined;
  }
  const isNumber = (v: Value) => typeof v === "number" || typeof v === "boolean";
  if (isNumber(x) || isNumber(y)) {
    const nx = numericOperand(x);
    const ny = numericOperand(y);
    if (nx !== undefined && ny !== undefined) return sign(nx - ny);
  }
  const tx = toText(x);
  const ty = toText(y);
  return tx === ty ? 0 : tx < ty ? -1 : 1;
}

/** What the Web API shows for a formula's value (dates as ISO text, errors and NaN as Airtable's objects). */
export function toApiValue(value: Value): unknown {
  if (value instanceof ErrorValue) return { error: "#ERROR!" };
  if (value instanceof Date) return value.toISOString();
  if (typeof value === "number" && !Number.isFinite(value)) return { specialValue: String(value) };
  if (Array.isArray(value)) return value.map(toApiValue);
  return value;
}

const DATE_TYPES = new Set(["date", "dateTime", "createdTime", "lastModifiedTime"]);
const PERSON_TYPES = new Set(["singleCollaborator", "createdBy", "lastModifiedBy", "multipleCollaborators"]);

/** The type of value a computed field (formula, rollup, lookup) holds, from its `options.result`. */
function resultType(field: FormulaField): string | undefined {
  const result = field.options?.result;
  if (typeof result !== "object" || result === null || !("type" in result)) return undefined;
  return typeof result.type === "string" ? result.type : undefined;
}

function property(value: object, key: string): unknown {
  return Object.entries(value).find(([name]) => name === key)?.[1];
}

/** A Web API cell value with no type-specific meaning: objects by their name or text. */
function genericValue(raw: unknown): Value {
  if (raw === null || raw === undefined) return null;
  if (typeof raw === "string" || typeof raw === "number" || typeof raw === "boolean") return raw;
  if (Array.isArray(raw)) return raw.map(genericValue);
  if (typeof raw !== "object") return null;
  if (typeof property(raw, "error") === "string") return new ErrorValue(String(property(raw, "error")));
  const special = property(raw, "specialValue");
  if (typeof special === "string") return Number(special);
  for (const key of ["name", "text", "label"]) {
    const v = property(raw, key);
    if (typeof v === "string") return v;
  }
  return JSON.stringify(raw);
}

function dateValue(raw: Value): Value {
  if (Array.isArray(raw)) return raw.map(dateValue);
  return typeof raw === "string" ? (parseDateText(raw) ?? raw) : raw;
}

/** An attachment inside a formula reads "filename (url)". */
function attachmentText(raw: unknown): Value {
  if (typeof raw !== "object" || raw === null) return genericValue(raw);
  return `${String(property(raw, "filename") ?? "")} (${String(property(raw, "url") ?? "")})`;
}

/** What a cell of `field`, as the Web API returns it (`undefined` = empty), is inside a formula. */
export function cellValue(field: FormulaField, raw: unknown): Value {
  if (raw === undefined || raw === null) return null;
  if (field.type === "checkbox") return raw === true ? true : null;
  if (field.type === "multipleAttachments" && Array.isArray(raw)) return raw.map(attachmentText);
  if (PERSON_TYPES.has(field.type)) return genericValue(raw);
  const type = DATE_TYPES.has(field.type) ? field.type : resultType(field);
  const value = genericValue(raw);
  return type !== undefined && DATE_TYPES.has(type) ? dateValue(value) : value;
}
