/**
 * Turns a failed zod validation into the service's `invalid_input` error, naming each bad field.
 */
import type { z } from "zod";
import { AirlockError } from "../errors.js";

/**
 * A one-line description of zod issues: `identifier: must be …; limit: too big`.
 *
 * @example
 * describeIssues(result.error); // "identifier: Required"
 */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "(body)"}: ${issue.message}`)
    .join("; ");
}

/**
 * The `defaultHook` of every OpenAPIHono in the service.
 *
 * @example
 * const app = new OpenAPIHono({ defaultHook: validationHook });
 */
export function validationHook(
  result: { success: true; target: string } | { success: false; error: z.ZodError; target: string },
): undefined {
  if (!result.success) {
    throw new AirlockError("invalid_input", `The request is not valid: ${describeIssues(result.error)}.`, {
      hint: "Fix the named fields; GET /openapi.json describes every request.",
      details: { target: result.target },
    });
  }
  return undefined;
}
