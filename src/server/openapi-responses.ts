/**
 * The pieces every `/v1` route definition shares: JSON content, the secret-key security scheme,
 * and the error answers documented on every operation (400, 401, 429) or on every one that takes
 * a JSON body (413, 415). One definition, so the OpenAPI document says the same thing everywhere.
 */
import { ErrorSchema } from "./api-schemas.js";

/** `{"application/json": {schema}}`, the content of a JSON body or answer. */
export const json = <T>(schema: T) => ({ "application/json": { schema } });

/** Every `/v1` route needs the secret key (or an API key) as a Bearer token. */
export const security = [{ secretKey: [] }];

/** The errors any `/v1` operation can answer. */
export const commonErrors = {
  400: { description: "Invalid input", content: json(ErrorSchema) },
  401: { description: "Missing or wrong secret key", content: json(ErrorSchema) },
  429: {
    description:
      "rate_limited: too many wrong secret keys from this address (per instance); wait Retry-After seconds",
    content: json(ErrorSchema),
  },
} as const;

/** The errors of an operation that takes a JSON body of at most `limit` (e.g. "64 KiB"). */
export function bodyErrors(limit: string) {
  return {
    413: { description: `payload_too_large: the body is larger than ${limit}`, content: json(ErrorSchema) },
    415: {
      description: "unsupported_media_type: the body must be sent with Content-Type: application/json",
      content: json(ErrorSchema),
    },
  } as const;
}
