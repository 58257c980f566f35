/**
 * Airtable's field types and the options each takes when a field is created through the Web API
 * (field model: https://airtable.com/developers/web/api/field-model). Used by the schema write
 * endpoints and by the seed-data loader, so both refuse the same things.
 */
import { z } from "zod";
import type { SampleBase, SampleField } from "./sample-data.js";

/** An error answer's `error` object, e.g. `{type: "DUPLICATE_OR_EMPTY_FIELD_NAME", message}`. */
export interface SchemaError {
  type: string;
  message: string;
}

/** Types Airtable computes; the API refuses to create them (UNSUPPORTED_FIELD_TYPE_FOR_CREATE). */
const COMPUTED_TYPES = [
  "aiText",
  "autoNumber",
  "button",
  "count",
  "createdBy",
  "createdTime",
  "externalSyncSource",
  "formula",
  "lastModifiedBy",
  "lastModifiedTime",
  "multipleLookupValues",
  "rollup",
] as const;

/** Types created without options (sending any is refused). */
const PLAIN_TYPES = [
  "singleLineText",
  "multilineText",
  "richText",
  "email",
  "url",
  "phoneNumber",
  "barcode",
  "multipleAttachments",
  "singleCollaborator",
  "multipleCollaborators",
] as const;

const HUES = ["blue", "cyan", "teal", "green", "yellow", "orange", "red", "pink", "purple", "gray"];
const SELECT_COLORS = HUES.flatMap((h) => ["Light2", "Light1", "Bright", "Dark1"].map((s) => h + s));
const BRIGHT_COLORS = HUES.map((h) => `${h}Bright`);
const DATE_FORMATS = { local: "l", friendly: "LL", us: "M/D/YYYY", european: "D/M/YYYY", iso: "YYYY-MM-DD" };
const TIME_FORMATS = { "12hour": "h:mma", "24hour": "HH:mm" };
const DURATION_FORMATS = ["h:mm", "h:mm:ss", "h:mm:ss.S", "h:mm:ss.SS", "h:mm:ss.SSS"] as const;

const precision = (max: number) => z.number().int().min(0).max(max);
const oneOf = (values: readonly string[]) => z.string().refine((v) => values.includes(v), "unknown value");
/** A format named `name`, whose optional `format` must be the one Airtable pairs with that name. */
function namedFormat(formats: Record<string, string>) {
  return z
    .strictObject({ name: oneOf(Object.keys(formats)), format: z.string().optional() })
    .refine((f) => f.format === undefined || f.format === formats[f.name], "format does not match name")
    .transform((f) => ({ name: f.name, format: formats[f.name] ?? "" }));
}
const timeZone = z
  .string()
  .refine(
    (tz) =>
      tz === "utc" ||
      tz === "client" ||
      (tz.includes("/") && Intl.supportedValuesOf("timeZone").includes(tz)),
    "invalid time zone (use utc, client or an IANA name such as Europe/Paris)",
  );

function choicesSchema(withIds: boolean) {
  const choice = z.strictObject({
    ...(withIds
      ? {
          id: z
            .string()
            .regex(/^sel[A-Za-z0-9]{14}$/)
            .optional(),
        }
      : {}),
    name: z.string().min(1),
    color: oneOf(SELECT_COLORS).optional(),
  });
  return z.strictObject({
    choices: z
      .array(choice)
      .refine((list) => new Set(list.map((c) => c.name)).size === list.length, "choice names must be unique"),
  });
}

/** Options of the creatable types that take some; `withIds` lets seed data name its choice ids. */
function optionSchemas(withIds: boolean): Record<string, z.ZodType<Record<string, unknown>>> {
  const bright = oneOf(BRIGHT_COLORS);
  return {
    checkbox: z.strictObject({
      color: bright,
      icon: oneOf(["check", "xCheckbox", "star", "heart", "thumbsUp", "flag", "dot"]),
    }),
    number: z.strictObject({ precision: precision(8) }),
    percent: z.strictObject({ precision: precision(8) }),
    currency: z.strictObject({ precision: precision(7), symbol: z.string().min(1) }),
    rating: z.strictObject({
      color: bright,
      icon: oneOf(["star", "heart", "thumbsUp", "flag", "dot"]),
      max: z.number().int().min(1).max(10),
    }),
    duration: z.strictObject({ durationFormat: oneOf(DURATION_FORMATS) }),
    date: z.strictObject({ dateFormat: namedFormat(DATE_FORMATS) }),
    dateTime: z.strictObject({
      timeZone,
      dateFormat: namedFormat(DATE_FORMATS),
      timeFormat: namedFormat(TIME_FORMATS),
    }),
    singleSelect: choicesSchema(withIds),
    multipleSelects: choicesSchema(withIds),
    multipleRecordLinks: z.strictObject({
      linkedTableId: z.string().min(1),
      viewIdForRecordSelection: z.string().min(1).optional(),
      // A schema copied from a real base carries the read options too.
      ...(withIds
        ? {
            isReversed: z.boolean().optional(),
            prefersSingleRecordLink: z.boolean().optional(),
            inverseLinkFieldId: z
              .string()
              .regex(/^fld[A-Za-z0-9]{14}$/)
              .optional(),
          }
        : {}),
    }),
  };
}

const CREATE_OPTIONS = optionSchemas(false);
const SEED_OPTIONS = optionSchemas(true);

/** Every type the field model documents. */
export const FIELD_TYPES: readonly string[] = [
  ...COMPUTED_TYPES,
  ...PLAIN_TYPES,
  ...Object.keys(CREATE_OPTIONS),
];

/** Types Airtable does not allow as a table's primary field (UNCONFIRMED: the reference gives no list). */
const NOT_PRIMARY = new Set([
  "checkbox",
  "multipleAttachments",
  "multipleRecordLinks",
  "multipleSelects",
  "singleCollaborator",
  "multipleCollaborators",
  "rating",
  "button",
]);

/** A field as a create request or seed data describes it. */
export interface FieldInput {
  id?: string | undefined;
  name: string;
  type: string;
  description?: string | undefined;
  options?: Record<string, unknown> | undefined;
}

/** What building a field needs from its surroundings. */
export interface FieldContext {
  base: SampleBase;
  tableName: string;
  /** A fresh id with the prefix (`fld`, `sel`). */
  newId: (prefix: string) => string;
  /** Seed data: computed types allowed (options kept as given), choice ids may be given. */
  seed?: boolean;
}

const invalidOptions = (where: string, detail: string): { error: SchemaError } => ({
  error: {
    type: "INVALID_FIELD_TYPE_OPTIONS_FOR_CREATE",
    message: `Invalid options for ${where}: Failed schema validation: ${detail}`,
  },
});

/** Whether `type` can be the primary (first) field of a table. */
export function canBePrimary(type: string): boolean {
  return !NOT_PRIMARY.has(type);
}

/**
 * Checks a field against its type's rules and builds it (ids minted, formats filled in as
 * Airtable reports them); the error names the table, the field and what is wrong.
 */
export function buildField(input: FieldInput, context: FieldContext): SampleField | SchemaError {
  const where = `${context.tableName}.${input.name}`;
  if (!FIELD_TYPES.includes(input.type)) {
    return {
      type: "INVALID_REQUEST_UNKNOWN",
      message: `Invalid request: unknown field type ${JSON.stringify(input.type)} for ${where}. Known types: ${FIELD_TYPES.join(", ")}.`,
    };
  }
  const options = fieldOptions(input, context, where);
  if ("error" in options) return options.error;
  return {
    id: input.id ?? context.newId("fld"),
    name: input.name,
    type: input.type,
    ...(input.description !== undefined ? { description: input.description } : {}),
    ...(options.value !== undefined ? { options: options.value } : {}),
  };
}

type OptionsOutcome = { value: Record<string, unknown> | undefined } | { error: SchemaError };

function fieldOptions(input: FieldInput, context: FieldContext, where: string): OptionsOutcome {
  if ((COMPUTED_TYPES as readonly string[]).includes(input.type)) {
    if (context.seed) return { value: input.options };
    return {
      error: {
        type: "UNSUPPORTED_FIELD_TYPE_FOR_CREATE",
        message: `Invalid options for ${where}: Creating ${input.type} fields is not supported at this time`,
      },
    };
  }
  if ((PLAIN_TYPES as readonly string[]).includes(input.type)) {
    return input.options === undefined
      ? { value: undefined }
      : invalidOptions(where, `options is not included in the ${input.name}.(type=${input.type}) schema`);
  }
  const schema = (context.seed ? SEED_OPTIONS : CREATE_OPTIONS)[input.type];
  if (!schema) return { value: input.options };
  if (input.options === undefined) return invalidOptions(where, `${input.name}.options is missing`);
  const parsed = schema.safeParse(input.options);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return invalidOptions(where, `options.${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}`);
  }
  return finishOptions(input.type, parsed.data, context, where);
}

/** Ids for new select choices; a link field's table (and view) must exist, and its read options are filled. */
function finishOptions(
  type: string,
  options: Record<string, unknown>,
  context: FieldContext,
  where: string,
): OptionsOutcome {
  if (type === "singleSelect" || type === "multipleSelects") {
    const choices = z.array(z.looseObject({ id: z.string().optional() })).parse(options.choices);
    return { value: { choices: choices.map((c) => ({ id: c.id ?? context.newId("sel"), ...c })) } };
  }
  if (type !== "multipleRecordLinks") return { value: options };
  const linked = context.base.tables.find((t) => t.id === options.linkedTableId);
  if (!linked)
    return invalidOptions(
      where,
      `options.linkedTableId: no table ${String(options.linkedTableId)} in this base`,
    );
  const view = options.viewIdForRecordSelection;
  if (view !== undefined && !linked.views.some((v) => v.id === view)) {
    return invalidOptions(
      where,
      `options.viewIdForRecordSelection: no view ${String(view)} in ${linked.name}`,
    );
  }
  return {
    value: {
      isReversed: false,
      prefersSingleRecordLink: false,
      ...options,
      linkedTableId: linked.id,
    },
  };
}

/** Field names are unique within a table regardless of case [create-table reference]. */
export function sameName(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
