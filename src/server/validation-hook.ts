/**
 * Turns a failed zod validation into the service's `invalid_input` error, naming each bad field,
 * so no route ever answers zod's own `{success: false, error: ZodError}` body.
 */
import type { Context } from "hono";
import type { z } from "zod";
import { AirlockError } from "../shared/errors.js";
import { JSON_BODY_HINT } from "./http-errors.js";

const JSON_TYPE_RE = /^application\/([\w.-]+\+)?json\s*(;|$)/i;

/**
 * A one-line description of zod issues: `identifier: must be …; limit: too big`.
 */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "(body)"}: ${issue.message}`)
    .join("; ");
}

/**
 * The `defaultHook` of every OpenAPIHono in the service. A JSON body that arrived without a JSON
 * Content-Type (so it was never read) gets a hint naming `application/json`.
 */
export function validationHook(
  result: { success: true; target: string } | { success: false; error: z.ZodError; target: string },
  c?: Context,
): undefined {
  if (!result.success) {
    const unreadBody = result.target === "json" && !JSON_TYPE_RE.test(c?.req.header("content-type") ?? "");
    const message = unreadBody
      ? "The request has no JSON body (it came without Content-Type: application/json)."
      : `The request is not valid: ${describeIssues(result.error)}.`;
    throw new AirlockError("invalid_input", message, {
      hint: unreadBody ? JSON_BODY_HINT : "Fix the named fields; GET /openapi.json describes every request.",
      details: { target: result.target },
    });
  }
  return undefined;
}
