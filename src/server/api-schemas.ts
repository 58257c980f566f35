/**
 * Wire shapes of the `/v1` API, defined once with zod: the same schemas validate requests and
 * produce `GET /openapi.json`.
 */
import { z } from "@hono/zod-openapi";
import { CONNECTION_STATUSES, type ConnectionSummary, type EventRecord } from "../store/types.js";
import { IDENTIFIER_PATTERN } from "./validation.js";

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: "reauth_required" }),
      message: z.string(),
      hint: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .openapi("Error");

export const IdentifierSchema = z
  .string()
  .regex(
    IDENTIFIER_PATTERN,
    "must be 1–255 characters: letters, digits and . _ : @ + -, starting with a letter or digit",
  )
  .openapi({ example: "user_123", description: "Your app's id for the connection (e.g. your user's id)." });

export const IdentifierParamSchema = z.object({
  identifier: IdentifierSchema.openapi({ param: { name: "identifier", in: "path" } }),
});

/**
 * Connection metadata on the wire: any JSON value is taken, so that server/metadata.ts's check can
 * name the problem and its fix (an object, at most 4 KiB as JSON, 50 keys of 1–100 characters).
 */
export const MetadataSchema = z.unknown().openapi({
  type: ["object", "null"],
  description:
    "Your app's JSON object for the connection (at most 4 KiB as JSON, 50 top-level keys of 1–100 characters; null: none). Returned on the connection and in its events and webhooks; Airlock never looks inside it, so put no secrets in it.",
  example: { plan: "pro", team_id: "t_42" },
});

export const ConnectSessionRequestSchema = z
  .object({
    identifier: IdentifierSchema,
    integration: z.string().max(63).optional().openapi({
      example: "readonly",
      description:
        "The integration to connect with (GET /v1/integrations lists them); default: the one the route acts on (`default`, the AIRTABLE_* integration, under /v1).",
    }),
    scopes: z
      .array(z.string().min(1).max(100))
      .max(50)
      .optional()
      .openapi({ description: "A subset of AIRTABLE_SCOPES; default all of them." }),
    return_url: z
      .string()
      .max(2048)
      .optional()
      .openapi({ description: "Where the browser goes afterwards; its origin must be allowed." }),
    metadata: MetadataSchema.optional().openapi({
      description:
        "Put on the connection when the flow completes, replacing its metadata; absent or null keeps a reconnected connection's own.",
    }),
    expected_email: z.string().max(254).optional().openapi({
      format: "email",
      example: "ada@example.com",
      description:
        "The email of the Airtable account that must consent (compared case-insensitively; at most 254 characters). A consent by another account creates or changes no connection, discards its tokens and sends the browser back with status=error&error=wrong_account. Needs the user.email:read scope among the session's scopes.",
    }),
  })
  .strict()
  .openapi("ConnectSessionRequest");

export const ConnectSessionSchema = z
  .object({
    token: z.string().openapi({ description: "Single use; shown only in this response." }),
    url: z.string().openapi({ example: "http://localhost:4000/connect/Xq3…" }),
    expires_at: z.string().openapi({ format: "date-time" }),
  })
  .openapi("ConnectSession");

export const ConnectionStatusSchema = z.enum(CONNECTION_STATUSES).openapi({
  description:
    "`active` works; `reauth_required` needs the user to connect again (see status_reason); `revoked` was disconnected (DELETE), its tokens erased. A new connect link makes either active again.",
});

export const ConnectionSchema = z
  .object({
    integration: z.string().openapi({ example: "default", description: "The integration it was made with." }),
    identifier: z.string(),
    status: ConnectionStatusSchema,
    status_reason: z.string().nullable(),
    scopes: z.array(z.string()),
    airtable_user_id: z.string().nullable(),
    email: z.string().nullable(),
    access_token_expires_at: z.string().openapi({
      format: "date-time",
      description: "For a revoked connection: when it was disconnected (its tokens are gone).",
    }),
    refresh_token_expires_at: z.string().openapi({
      format: "date-time",
      description: "For a revoked connection: when it was disconnected (its tokens are gone).",
    }),
    last_refreshed_at: z.string().nullable().openapi({ format: "date-time" }),
    created_at: z.string().openapi({ format: "date-time" }),
    metadata: z
      .record(z.string(), z.unknown())
      .nullable()
      .openapi({ description: "Your app's JSON object for the connection; null: none." }),
  })
  .openapi("Connection");

export const MetadataUpdateSchema = z
  .object({
    metadata: MetadataSchema.openapi({
      description: "Replaces the connection's metadata as a whole (no merge); null clears it.",
    }),
  })
  .strict()
  .openapi("MetadataUpdate");

export const ConnectionListSchema = z
  .object({
    connections: z.array(ConnectionSchema),
    next_cursor: z
      .string()
      .nullable()
      .openapi({ description: "Pass as `cursor` for the next page; null at the end." }),
  })
  .openapi("ConnectionList");

export const ConnectionListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: IdentifierSchema.optional(),
  status: ConnectionStatusSchema.optional(),
});

export const AccessTokenSchema = z
  .object({
    access_token: z.string(),
    expires_at: z.string().openapi({ format: "date-time" }),
  })
  .openapi("AccessToken");

export const EventSchema = z
  .object({
    id: z.string(),
    identifier: z.string(),
    type: z.string().openapi({ example: "connection.created" }),
    data: z.record(z.string(), z.unknown()),
    created_at: z.string().openapi({ format: "date-time" }),
  })
  .openapi("Event");

export const EventListSchema = z.object({ events: z.array(EventSchema) }).openapi("EventList");

export const EventListQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

/**
 * A connection as the API shows it.
 */
export function connectionToJson(connection: ConnectionSummary): z.infer<typeof ConnectionSchema> {
  return {
    integration: connection.integration,
    identifier: connection.identifier,
    status: connection.status,
    status_reason: connection.statusReason,
    scopes: connection.scopes,
    airtable_user_id: connection.airtableUserId,
    email: connection.email,
    access_token_expires_at: connection.accessTokenExpiresAt.toISOString(),
    refresh_token_expires_at: connection.refreshTokenExpiresAt.toISOString(),
    last_refreshed_at: connection.lastRefreshedAt?.toISOString() ?? null,
    created_at: connection.createdAt.toISOString(),
    metadata: connection.metadata,
  };
}

/**
 * An event as the API shows it.
 */
export function eventToJson(event: EventRecord): z.infer<typeof EventSchema> {
  return {
    id: event.id,
    identifier: event.identifier,
    type: event.type,
    data: event.data,
    created_at: event.createdAt.toISOString(),
  };
}
