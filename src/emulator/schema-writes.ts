/**
 * Schema writes under `schema.bases:write` [create-table, update-table, create-field, update-field]:
 * create and update tables and fields in the same SampleBase structures the schema and records
 * routes read, and report each change on `state.changes`.
 */
import type { Context, Hono } from "hono";
import { z } from "zod";
import { newAirtableId } from "./airtable-ids.js";
import { readApiBody } from "./api-body.js";
import { type ApiEnv, baseFor, fail } from "./api-context.js";
import { INVALID_PERMISSIONS, NOT_FOUND } from "./api-errors.js";
import type { BaseChange } from "./changes.js";
import { buildField, canBePrimary, type FieldInput, type SchemaError, sameName } from "./field-types.js";
import { findTable, type SampleBase, type SampleField, type SampleTable } from "./sample-data.js";
import type { EmulatorState } from "./state.js";

/** Airtable: descriptions are non-empty and at most 20,000 characters. */
const description = z.string().min(1).max(20_000).optional();
const fieldBody = z.strictObject({
  name: z.string(),
  type: z.string(),
  description,
  options: z.record(z.string(), z.unknown()).optional(),
});
const createTableBody = z.strictObject({ name: z.string(), description, fields: z.array(fieldBody).min(1) });
/** The update bodies: a new name and/or description, at least one of them. */
const updateBody = z
  .strictObject({ name: z.string().optional(), description })
  .refine((b) => b.name !== undefined || b.description !== undefined, "name or description is required");

type SchemaEnv = Context<ApiEnv>;

/** The base to write the schema of: the gate's checks, then creator permission on the base. */
function writableBase(c: SchemaEnv, state: EmulatorState): SampleBase | Response {
  const base = baseFor(c, state, "schema.bases:write");
  if (base instanceof Response) return base;
  return base.permissionLevel === "create" ? base : fail(c, INVALID_PERMISSIONS, 403);
}

const refuse = (c: SchemaEnv, error: SchemaError) => fail(c, { error }, 422);

/** Emits a change made by the caller's integration (its token's grant's client id). */
function emit(c: SchemaEnv, state: EmulatorState, change: BaseChange): void {
  state.changes.emit(change, { userId: state.data.user.id, clientId: c.get("access").grant.clientId });
}

/** A new link field's inverse, made in the linked table, is a field change of its own. */
function emitInverse(
  c: SchemaEnv,
  state: EmulatorState,
  base: SampleBase,
  inverse: { table: SampleTable; field: { id: string } } | undefined,
): void {
  if (inverse) {
    emit(c, state, {
      kind: "field.created",
      baseId: base.id,
      tableId: inverse.table.id,
      fieldId: inverse.field.id,
    });
  }
}

/** Every id in the base, so a minted one is never a duplicate. */
function idMinter(base: SampleBase): (prefix: string) => string {
  const taken = new Set<string>();
  for (const t of base.tables) {
    taken.add(t.id);
    for (const f of t.fields) taken.add(f.id);
    for (const v of t.views) taken.add(v.id);
  }
  return (prefix) => {
    const id = newAirtableId(prefix, (candidate) => taken.has(candidate));
    taken.add(id);
    return id;
  };
}

function tableModel({ records: _records, ...table }: SampleTable) {
  return table;
}

function tableNameProblem(base: SampleBase, name: string, except?: SampleTable): SchemaError | undefined {
  if (name.trim() === "")
    return { type: "INVALID_REQUEST_UNKNOWN", message: "Invalid request: the table name is empty." };
  if (base.tables.some((t) => t !== except && sameName(t.name, name))) {
    return { type: "DUPLICATE_TABLE_NAME", message: `A table named ${JSON.stringify(name)} already exists.` };
  }
  return undefined;
}

function fieldNameProblem(
  fields: readonly { name: string }[],
  name: string,
  except?: SampleField,
): SchemaError | undefined {
  const taken = fields.some((f) => f !== except && sameName(f.name, name));
  if (name.trim() !== "" && !taken) return undefined;
  return {
    type: "DUPLICATE_OR_EMPTY_FIELD_NAME",
    message:
      name.trim() === ""
        ? "Field names cannot be empty."
        : `Field names must be unique: ${JSON.stringify(name)} is taken.`,
  };
}

/** Builds the fields of a new table, first one primary; the first refusal wins. */
function buildTableFields(
  base: SampleBase,
  tableName: string,
  inputs: FieldInput[],
  newId: (prefix: string) => string,
): SampleField[] | SchemaError {
  const first = inputs[0];
  if (first && !canBePrimary(first.type)) {
    return {
      type: "INVALID_REQUEST_UNKNOWN",
      message: `Invalid request: ${first.type} fields cannot be the primary field (${tableName}.${first.name}).`,
    };
  }
  const fields: SampleField[] = [];
  for (const input of inputs) {
    const nameProblem = fieldNameProblem(fields, input.name);
    if (nameProblem) return nameProblem;
    const field = buildField(input, { base, tableName, newId });
    if ("message" in field) return field;
    fields.push(field);
  }
  return fields;
}

/**
 * A new link field gets its inverse in the linked table (named after this table, made unique), as
 * Airtable adds one; a table linking to itself gets none (UNCONFIRMED).
 */
function addInverseLink(
  base: SampleBase,
  table: SampleTable,
  field: SampleField,
  newId: (p: string) => string,
) {
  if (field.type !== "multipleRecordLinks") return undefined;
  const linked = base.tables.find((t) => t.id === field.options?.linkedTableId);
  if (!linked || linked === table) return undefined;
  let name = table.name;
  for (let n = 2; linked.fields.some((f) => sameName(f.name, name)); n++) name = `${table.name} ${n}`;
  const inverse: SampleField = {
    id: newId("fld"),
    name,
    type: "multipleRecordLinks",
    options: {
      linkedTableId: table.id,
      isReversed: false,
      prefersSingleRecordLink: false,
      inverseLinkFieldId: field.id,
    },
  };
  field.options = { ...field.options, inverseLinkFieldId: inverse.id };
  linked.fields.push(inverse);
  return { table: linked, field: inverse };
}

/** `POST /v0/meta/bases/:baseId/tables`: a table with its fields (the first is primary) and a grid view. */
async function createTable(c: SchemaEnv, state: EmulatorState): Promise<Response> {
  const base = writableBase(c, state);
  if (base instanceof Response) return base;
  const body = await readApiBody(c, createTableBody);
  if (body instanceof Response) return body;
  const nameProblem = tableNameProblem(base, body.name);
  if (nameProblem) return refuse(c, nameProblem);
  const newId = idMinter(base);
  const fields = buildTableFields(base, body.name, body.fields, newId);
  if ("message" in fields) return refuse(c, fields);
  const table: SampleTable = {
    id: newId("tbl"),
    name: body.name,
    ...(body.description !== undefined ? { description: body.description } : {}),
    primaryFieldId: fields[0]!.id,
    fields,
    views: [{ id: newId("viw"), name: "Grid view", type: "grid" }],
    records: [],
  };
  base.tables.push(table);
  emit(c, state, { kind: "table.created", baseId: base.id, tableId: table.id });
  for (const field of fields) {
    emitInverse(c, state, base, addInverseLink(base, table, field, newId));
  }
  return c.json(tableModel(table));
}

/** `PATCH /v0/meta/bases/:baseId/tables/:tableIdOrName`: a new name and/or description. */
async function updateTable(c: SchemaEnv, state: EmulatorState): Promise<Response> {
  const base = writableBase(c, state);
  if (base instanceof Response) return base;
  const table = findTable(base, c.req.param("tableIdOrName") ?? "");
  if (!table) return fail(c, NOT_FOUND, 404);
  const body = await readApiBody(c, updateBody);
  if (body instanceof Response) return body;
  const nameProblem = body.name === undefined ? undefined : tableNameProblem(base, body.name, table);
  if (nameProblem) return refuse(c, nameProblem);
  if (body.name !== undefined) table.name = body.name;
  if (body.description !== undefined) table.description = body.description;
  emit(c, state, { kind: "table.changed", baseId: base.id, tableId: table.id });
  return c.json(tableModel(table));
}

/** The table of a field route: by id only, as the reference's path names it (`{tableId}`). */
function tableById(c: SchemaEnv, base: SampleBase): SampleTable | Response {
  const table = base.tables.find((t) => t.id === c.req.param("tableId"));
  return table ?? fail(c, NOT_FOUND, 404);
}

/** `POST /v0/meta/bases/:baseId/tables/:tableId/fields`: one new field (empty in every record). */
async function createField(c: SchemaEnv, state: EmulatorState): Promise<Response> {
  const base = writableBase(c, state);
  if (base instanceof Response) return base;
  const table = tableById(c, base);
  if (table instanceof Response) return table;
  const body = await readApiBody(c, fieldBody);
  if (body instanceof Response) return body;
  const nameProblem = fieldNameProblem(table.fields, body.name);
  if (nameProblem) return refuse(c, nameProblem);
  const newId = idMinter(base);
  const field = buildField(body, { base, tableName: table.name, newId });
  if ("message" in field) return refuse(c, field);
  table.fields.push(field);
  const inverse = addInverseLink(base, table, field, newId);
  emit(c, state, { kind: "field.created", baseId: base.id, tableId: table.id, fieldId: field.id });
  emitInverse(c, state, base, inverse);
  return c.json(field);
}

/**
 * `PATCH /v0/meta/bases/:baseId/tables/:tableId/fields/:fieldIdOrName`: a new name and/or
 * description. A rename carries the field's values over, since records are keyed by field name.
 */
async function updateField(c: SchemaEnv, state: EmulatorState): Promise<Response> {
  const base = writableBase(c, state);
  if (base instanceof Response) return base;
  const table = tableById(c, base);
  if (table instanceof Response) return table;
  const key = c.req.param("fieldIdOrName");
  const field = table.fields.find((f) => f.id === key) ?? table.fields.find((f) => f.name === key);
  if (!field) return fail(c, NOT_FOUND, 404);
  const body = await readApiBody(c, updateBody);
  if (body instanceof Response) return body;
  const nameProblem = body.name === undefined ? undefined : fieldNameProblem(table.fields, body.name, field);
  if (nameProblem) return refuse(c, nameProblem);
  if (body.name !== undefined && body.name !== field.name) renameValues(table, field.name, body.name);
  if (body.name !== undefined) field.name = body.name;
  if (body.description !== undefined) field.description = body.description;
  emit(c, state, { kind: "field.changed", baseId: base.id, tableId: table.id, fieldId: field.id });
  return c.json(field);
}

function renameValues(table: SampleTable, from: string, to: string): void {
  for (const record of table.records) {
    if (!(from in record.fields)) continue;
    record.fields[to] = record.fields[from];
    delete record.fields[from];
  }
}

/** Registers the schema write routes on the /v0 app. */
export function schemaWriteRoutes(routes: Hono<ApiEnv>, state: EmulatorState): void {
  routes.post("/v0/meta/bases/:baseId/tables", (c) => createTable(c, state));
  routes.patch("/v0/meta/bases/:baseId/tables/:tableIdOrName", (c) => updateTable(c, state));
  routes.post("/v0/meta/bases/:baseId/tables/:tableId/fields", (c) => createField(c, state));
  routes.patch("/v0/meta/bases/:baseId/tables/:tableId/fields/:fieldIdOrName", (c) => updateField(c, state));
}
