/**
 * Request bodies of the record endpoints: JSON only, each a strict shape (Airtable refuses keys it
 * does not know with "parameter validation failed"). The parse answers the error itself, so a
 * handler gets either the typed body or the Response to return.
 */
import type { Context } from "hono";
import { z } from "zod";
import { type ApiEnv, fail } from "../api-context.js";
import { INVALID_REQUEST_BODY, invalidRequest, PARAMETER_VALIDATION_FAILED } from "./errors.js";

const cells = z.record(z.string(), z.unknown());
const flags = { typecast: z.boolean().optional(), returnFieldsByFieldId: z.boolean().optional() };

/** POST /v0/{base}/{table}: `records` (up to 10), or one record's `fields`. */
export const createBody = z.strictObject({
  records: z.array(z.unknown()).optional(),
  fields: z.unknown().optional(),
  ...flags,
});

/** PATCH/PUT /v0/{base}/{table}: up to 10 records, by id or matched on fieldsToMergeOn. */
export const updateManyBody = z.strictObject({
  records: z.array(z.unknown()),
  performUpsert: z.strictObject({ fieldsToMergeOn: z.array(z.string()).min(1).max(3) }).optional(),
  ...flags,
});

/** PATCH/PUT /v0/{base}/{table}/{recordId}. */
export const updateOneBody = z.strictObject({ fields: z.unknown().optional(), ...flags });

/** One entry of `records` on create (`fields` only) and update (`id` too). */
export const createEntry = z.strictObject({ fields: cells.optional() });
export const updateEntry = z.strictObject({ id: z.string().optional(), fields: cells.optional() });
export const recordFields = cells;

/** POST /v0/{base}/{table}/listRecords: the list options as JSON. */
export const listBody = z.strictObject({
  pageSize: z.number().optional(),
  maxRecords: z.number().optional(),
  offset: z.string().optional(),
  view: z.string().optional(),
  sort: z.array(z.strictObject({ field: z.string(), direction: z.string().optional() })).optional(),
  filterByFormula: z.string().optional(),
  cellFormat: z.string().optional(),
  timeZone: z.string().optional(),
  userLocale: z.string().optional(),
  fields: z.array(z.string()).optional(),
  returnFieldsByFieldId: z.boolean().optional(),
  recordMetadata: z.array(z.string()).optional(),
  // airtable.js sends its own `method: "post"` option along in the body; Airtable takes it.
  method: z.literal("post").optional(),
});

export type ParsedBody<T> = { ok: true; body: T } | { ok: false; response: Response };

/** The body parsed as JSON and checked against `schema`, or the 422 to answer. */
export async function readBody<T>(c: Context<ApiEnv>, schema: z.ZodType<T>): Promise<ParsedBody<T>> {
  const type = c.req.header("content-type") ?? "";
  if (!/^application\/json\b/i.test(type)) {
    return {
      ok: false,
      response: fail(
        c,
        invalidRequest("The request body must be JSON (Content-Type: application/json)."),
        422,
      ),
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(await c.req.text());
  } catch {
    return { ok: false, response: fail(c, INVALID_REQUEST_BODY, 422) };
  }
  const parsed = schema.safeParse(json);
  return parsed.success
    ? { ok: true, body: parsed.data }
    : { ok: false, response: fail(c, PARAMETER_VALIDATION_FAILED, 422) };
}
