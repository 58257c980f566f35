/**
 * The user's own seed data (`airlock emulator --data FILE`, `startEmulator({ data })`): a JSON
 * description of bases, tables, fields, views and records, checked with the same field rules as
 * the schema write endpoints, and turned into the SampleData the Web API serves. Ids may be given
 * (Airtable's shape) or left out (generated, the same on every start).
 */
import { z } from "zod";
import { AirlockError } from "../shared/errors.js";
import { buildField, canBePrimary, sameName } from "./field-types.js";
import {
  createSampleData,
  idFactory,
  type SampleBase,
  type SampleData,
  type SampleField,
  type SampleTable,
  type ViewQuery,
} from "./sample-data.js";
import { cellProblem } from "./seed-cells.js";

const idOf = (prefix: string) =>
  z
    .string()
    .regex(
      new RegExp(`^${prefix}[A-Za-z0-9]{14}$`),
      `must be "${prefix}" and 14 letters or digits (e.g. ${prefix}AAAAAAAAAAAAAA), or left out to be generated`,
    );
const text = z.string().min(1, "must be a non-empty string");
const VIEW_TYPES = ["grid", "form", "calendar", "gallery", "kanban", "timeline", "block"] as const;

const seedField = z.strictObject({
  id: idOf("fld").optional(),
  name: text,
  type: z.string(),
  description: text.optional(),
  options: z.record(z.string(), z.unknown()).optional(),
});
const seedView = z.strictObject({
  id: idOf("viw").optional(),
  name: text,
  type: z.enum(VIEW_TYPES).optional(),
  filterByFormula: text.optional(),
  sort: z.array(z.strictObject({ field: text, direction: z.enum(["asc", "desc"]).optional() })).optional(),
});
const seedRecord = z.strictObject({
  id: idOf("rec").optional(),
  createdTime: z.iso
    .datetime({ message: "must be an ISO 8601 time such as 2024-01-15T09:00:00.000Z" })
    .optional(),
  fields: z.record(z.string(), z.unknown()),
});
const seedTable = z.strictObject({
  id: idOf("tbl").optional(),
  name: text,
  description: text.optional(),
  fields: z.array(seedField).min(1, "needs at least one field (the first is the primary field)"),
  views: z.array(seedView).optional(),
  records: z.array(seedRecord).optional(),
});
const seedBase = z.strictObject({
  id: idOf("app").optional(),
  name: text,
  permissionLevel: z.enum(["none", "read", "comment", "edit", "create"]).optional(),
  tables: z.array(seedTable).min(1, "needs at least one table"),
});
const seedSchema = z.strictObject({
  user: z.strictObject({ id: idOf("usr").optional(), email: z.email(), name: text }).optional(),
  bases: z.array(seedBase).min(1, "needs at least one base"),
});

/** Seed data as the user wrote it, after the shape check. */
export type SeedData = z.infer<typeof seedSchema>;

/** The seed-data format, one line per level, for help texts and errors. */
export const SEED_FORMAT = `{"user"?: {"id"?, "email", "name"},
   "bases": [{"id"?, "name", "permissionLevel"? (default "create"), "tables": [{"id"?, "name", "description"?,
     "fields": [{"id"?, "name", "type", "description"?, "options"?}]  (the first field is the primary field),
     "views"?: [{"id"?, "name", "type"?, "filterByFormula"?, "sort"?: [{"field", "direction"?}]}],
     "records"?: [{"id"?, "createdTime"?, "fields": {"FIELD NAME": VALUE}}]}]}]}`;

const HINT = `Fix that value in the seed data. The format: ${SEED_FORMAT}`;

/** Seed-data problem at `path` (e.g. `bases[0].tables[1].name`). */
export function seedError(path: string, problem: string, hint = HINT): AirlockError {
  return new AirlockError("config_invalid", `Emulator option data: ${path || "(top level)"}: ${problem}`, {
    hint,
  });
}

function pathText(path: readonly PropertyKey[]): string {
  return path
    .map((p, i) => (typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${String(p)}`))
    .join("");
}

/**
 * Checks seed data completely (shape, ids, names, field options, record values); throws
 * AirlockError("config_invalid") naming the JSON path and the fix.
 */
export function parseSeedData(raw: unknown): SeedData {
  const parsed = seedSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw seedError(pathText(issue?.path ?? []), issue?.message ?? "invalid");
  }
  buildSeedData(parsed.data);
  return parsed.data;
}

/** Every id the seed names, so generated ones never collide; a second use of one is refused. */
function givenIds(seed: SeedData): Set<string> {
  const ids = new Set<string>();
  const add = (id: string | undefined, path: string) => {
    if (id === undefined) return;
    if (ids.has(id))
      throw seedError(path, `the id ${id} is used twice`, "Give each one its own id, or leave ids out.");
    ids.add(id);
  };
  add(seed.user?.id, "user.id");
  seed.bases.forEach((base, b) => {
    add(base.id, `bases[${b}].id`);
    base.tables.forEach((table, t) => {
      const at = `bases[${b}].tables[${t}]`;
      add(table.id, `${at}.id`);
      table.fields.forEach((f, i) => {
        add(f.id, `${at}.fields[${i}].id`);
      });
      table.views?.forEach((v, i) => {
        add(v.id, `${at}.views[${i}].id`);
      });
      table.records?.forEach((r, i) => {
        add(r.id, `${at}.records[${i}].id`);
      });
    });
  });
  return ids;
}

function uniqueNames(items: readonly { name: string }[], path: string, what: string): void {
  items.forEach((item, i) => {
    if (items.slice(0, i).some((other) => sameName(other.name, item.name))) {
      throw seedError(
        `${path}[${i}].name`,
        `another ${what} is already named ${JSON.stringify(item.name)} (names ignore case)`,
        "Rename one of them.",
      );
    }
  });
}

/** Builds a table's fields; link fields may name their table by id or by name. */
function buildFields(
  base: SampleBase,
  spec: SeedData["bases"][number]["tables"][number],
  at: string,
  newId: (p: string) => string,
): SampleField[] {
  uniqueNames(spec.fields, `${at}.fields`, "field");
  const first = spec.fields[0];
  if (first && !canBePrimary(first.type)) {
    throw seedError(
      `${at}.fields[0].type`,
      `a ${first.type} field cannot be the primary field`,
      "Put a text, number or date field first.",
    );
  }
  return spec.fields.map((input, i) => {
    const linkedTable = input.options?.linkedTableId;
    const options =
      input.type === "multipleRecordLinks" && typeof linkedTable === "string"
        ? {
            ...input.options,
            linkedTableId:
              base.tables.find((t) => t.id === linkedTable || t.name === linkedTable)?.id ?? linkedTable,
          }
        : input.options;
    const field = buildField({ ...input, options }, { base, tableName: spec.name, newId, seed: true });
    if ("message" in field) throw seedError(`${at}.fields[${i}]`, `${field.type}: ${field.message}`);
    return field;
  });
}

/** Views (a grid view when none is given) and the filters and sorts they carry. */
function buildViews(
  spec: SeedData["bases"][number]["tables"][number],
  fields: SampleField[],
  at: string,
  newId: (p: string) => string,
  queries: Map<string, ViewQuery>,
) {
  const views = spec.views ?? [{ name: "Grid view" }];
  uniqueNames(views, `${at}.views`, "view");
  return views.map((v, i) => {
    const view = { id: v.id ?? newId("viw"), name: v.name, type: v.type ?? "grid" };
    v.sort?.forEach((s, k) => {
      if (!fields.some((f) => f.name === s.field))
        throw seedError(
          `${at}.views[${i}].sort[${k}].field`,
          `no field named ${JSON.stringify(s.field)}`,
          "Sort by one of the table's field names.",
        );
    });
    const sort = v.sort?.map((s) => ({ field: s.field, direction: s.direction ?? "asc" }));
    if (v.filterByFormula !== undefined || sort)
      queries.set(view.id, {
        ...(v.filterByFormula !== undefined ? { filterByFormula: v.filterByFormula } : {}),
        ...(sort ? { sort } : {}),
      });
    return view;
  });
}

const EPOCH = Date.UTC(2024, 0, 15, 9, 0, 0);

/** Records keyed by field name (ids accepted), each value checked against its field; empty values left out. */
function fillRecords(
  base: SampleBase,
  table: SampleTable,
  spec: SeedData["bases"][number]["tables"][number],
  at: string,
): void {
  (spec.records ?? []).forEach((input, i) => {
    const record = table.records[i];
    if (!record) return;
    for (const [key, value] of Object.entries(input.fields)) {
      const path = `${at}.records[${i}].fields.${key}`;
      const field = table.fields.find((f) => f.name === key) ?? table.fields.find((f) => f.id === key);
      if (!field)
        throw seedError(
          path,
          `the table has no field ${JSON.stringify(key)}`,
          `Use one of: ${table.fields.map((f) => f.name).join(", ")}.`,
        );
      const problem = cellProblem(field, value, base);
      if (problem) throw seedError(path, problem);
      if (value !== null && value !== false && value !== "" && !(Array.isArray(value) && value.length === 0))
        record.fields[field.name] = value;
    }
  });
}

/** One base: tables first (so links can find each other), then fields, views and records. */
function buildBase(
  spec: SeedData["bases"][number],
  b: number,
  newId: (p: string) => string,
  queries: Map<string, ViewQuery>,
): SampleBase {
  uniqueNames(spec.tables, `bases[${b}].tables`, "table");
  const base: SampleBase = {
    id: spec.id ?? newId("app"),
    name: spec.name,
    permissionLevel: spec.permissionLevel ?? "create",
    tables: [],
  };
  for (const t of spec.tables) {
    const records = (t.records ?? []).map((r, i) => ({
      id: r.id ?? newId("rec"),
      createdTime: r.createdTime ?? new Date(EPOCH + i * 60_000).toISOString(),
      fields: {},
    }));
    base.tables.push({
      id: t.id ?? newId("tbl"),
      name: t.name,
      ...(t.description ? { description: t.description } : {}),
      primaryFieldId: "",
      fields: [],
      views: [],
      records,
    });
  }
  spec.tables.forEach((t, i) => {
    const table = base.tables[i]!;
    const at = `bases[${b}].tables[${i}]`;
    table.fields = buildFields(base, t, at, newId);
    table.primaryFieldId = table.fields[0]!.id;
    table.views = buildViews(t, table.fields, at, newId, queries);
  });
  spec.tables.forEach((t, i) => {
    fillRecords(base, base.tables[i]!, t, `bases[${b}].tables[${i}]`);
  });
  return base;
}

/** Turns checked seed data into the emulator's data; deterministic, so reset rebuilds the same ids. */
export function buildSeedData(seed: SeedData): SampleData {
  const taken = givenIds(seed);
  const generate = idFactory(9_202_409);
  const newId = (prefix: string) => {
    let id = generate(prefix);
    while (taken.has(id)) id = generate(prefix);
    taken.add(id);
    return id;
  };
  const sampleUser = createSampleData().user;
  const user = seed.user
    ? { id: seed.user.id ?? newId("usr"), email: seed.user.email, name: seed.user.name }
    : sampleUser;
  const viewQueries = new Map<string, ViewQuery>();
  const bases = seed.bases.map((spec, b) => buildBase(spec, b, newId, viewQueries));
  return { user, bases, baseById: new Map(bases.map((base) => [base.id, base])), viewQueries };
}
