/**
 * Reading a /v0 JSON body: a body that is not JSON, or that does not fit the endpoint's schema, is
 * answered as Airtable answers it, 422 INVALID_REQUEST_UNKNOWN naming the offending parameter.
 */
import type { Context } from "hono";
import type { z } from "zod";
import { fail } from "./api-context.js";
import { invalidRequest } from "./api-errors.js";

/** The body checked against `schema`, or the 422 to answer. */
export async function readApiBody<T>(c: Context, schema: z.ZodType<T>): Promise<T | Response> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    return fail(c, invalidRequest("Invalid request: the body must be a JSON object."), 422);
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue && issue.path.length > 0 ? ` (${issue.path.join(".")}: ${issue.message})` : "";
  return fail(
    c,
    invalidRequest(`Invalid request: parameter validation failed. Check your request data${where}.`),
    422,
  );
}
