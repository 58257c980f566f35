/**
 * `cellFormat=string`: every cell as the text Airtable's UI shows, in the caller's `timeZone` and
 * `userLocale` (both required then). Numbers keep their field's precision, selects and links are
 * joined with ", ", dates follow the field's date and time formats.
 */
import type { SampleBase, SampleField } from "../sample-data.js";

export type CellFormatter = (field: SampleField, value: unknown) => string | undefined;

/** Whether Intl knows the time zone (Airtable takes IANA names such as "Europe/Paris"). */
export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Whether the locale is a well-formed BCP 47 tag Intl supports. */
export function isLocale(locale: string): boolean {
  try {
    return (
      Intl.getCanonicalLocales(locale).length === 1 &&
      Intl.NumberFormat.supportedLocalesOf(locale).length === 1
    );
  } catch {
    return false;
  }
}

function option(field: SampleField, key: string): unknown {
  return field.options?.[key];
}

/** The `name` of a format option (`{name: "iso", format: …}`), if it has one. */
function formatName(field: SampleField, key: "dateFormat" | "timeFormat"): unknown {
  const value = option(field, key);
  return typeof value === "object" && value !== null && "name" in value ? value.name : undefined;
}

function attachmentText(item: unknown): string {
  const text = (key: string) =>
    typeof item === "object" && item !== null && key in item ? String(Reflect.get(item, key)) : "";
  return `${text("filename")} (${text("url")})`;
}

function precision(field: SampleField): number {
  const p = option(field, "precision");
  return typeof p === "number" ? p : 0;
}

function formatNumber(field: SampleField, value: number, locale: string): string {
  const digits = { minimumFractionDigits: precision(field), maximumFractionDigits: precision(field) };
  if (field.type === "percent") return `${new Intl.NumberFormat(locale, digits).format(value * 100)}%`;
  const text = new Intl.NumberFormat(locale, digits).format(value);
  const symbol = option(field, "symbol");
  return field.type === "currency" && typeof symbol === "string" ? `${symbol}${text}` : text;
}

/** The parts of an instant in a zone, as numbers-as-strings. */
function zoned(instant: Date, timeZone: string) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    year: "numeric",
    month: "numeric",
    day: "numeric",
    hour: "numeric",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(instant);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return {
    year: get("year"),
    month: get("month"),
    day: get("day"),
    hour: get("hour"),
    minute: get("minute"),
  };
}

function formatDate(
  field: SampleField,
  d: { year: string; month: string; day: string },
  locale: string,
): string {
  const name = formatName(field, "dateFormat");
  const pad = (s: string) => s.padStart(2, "0");
  if (name === "us") return `${Number(d.month)}/${Number(d.day)}/${d.year}`;
  if (name === "european") return `${Number(d.day)}/${Number(d.month)}/${d.year}`;
  if (name === "iso") return `${d.year}-${pad(d.month)}-${pad(d.day)}`;
  const date = new Date(Date.UTC(Number(d.year), Number(d.month) - 1, Number(d.day)));
  if (name === "friendly")
    return new Intl.DateTimeFormat(locale, { timeZone: "UTC", dateStyle: "long" }).format(date);
  return new Intl.DateTimeFormat(locale, { timeZone: "UTC" }).format(date);
}

function formatTime(field: SampleField, hour: string, minute: string): string {
  const name = formatName(field, "timeFormat");
  if (name === "24hour") return `${hour.padStart(2, "0")}:${minute}`;
  const h = Number(hour);
  return `${h % 12 === 0 ? 12 : h % 12}:${minute}${h < 12 ? "am" : "pm"}`;
}

/** Linked records by their primary field's text. */
function linkNames(base: SampleBase, field: SampleField, ids: unknown[]): string {
  const table = base.tables.find((t) => t.id === field.options?.linkedTableId);
  const primary = table?.fields.find((f) => f.id === table.primaryFieldId);
  return ids
    .map((id) => {
      const record = table?.records.find((r) => r.id === id);
      const name = primary && record ? record.fields[primary.name] : undefined;
      return typeof name === "string" || typeof name === "number" ? String(name) : "Unnamed record";
    })
    .join(", ");
}

/** The formatter for one request. */
export function stringFormatter(base: SampleBase, timeZone: string, locale: string): CellFormatter {
  return (field, value) => {
    if (typeof value === "number") return formatNumber(field, value, locale);
    if (value === true) return "checked";
    if (field.type === "date" && typeof value === "string") {
      const [year = "", month = "", day = ""] = value.split("-");
      return formatDate(field, { year, month, day }, locale);
    }
    if ((field.type === "dateTime" || field.type === "createdTime") && typeof value === "string") {
      const parts = zoned(new Date(value), option(field, "timeZone") === "utc" ? "UTC" : timeZone);
      return `${formatDate(field, parts, locale)} ${formatTime(field, parts.hour, parts.minute)}`;
    }
    if (field.type === "multipleRecordLinks" && Array.isArray(value)) return linkNames(base, field, value);
    if (field.type === "multipleAttachments" && Array.isArray(value))
      return value.map(attachmentText).join(", ");
    if (Array.isArray(value)) return value.map(String).join(", ");
    return typeof value === "string" ? value : JSON.stringify(value);
  };
}
