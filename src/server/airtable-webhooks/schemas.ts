/**
 * Wire shapes of the Airtable webhook routes (request validation and OpenAPI in one), and the
 * JSON view of a stored webhook.
 */
import { z } from "@hono/zod-openapi";
import type { AirtableWebhookDelivery, AirtableWebhookRecord, ConnectionStatus } from "../../store/types.js";
import { IdentifierSchema } from "../api-schemas.js";

export const AIRTABLE_WEBHOOK_ID_PATTERN = /^awh_[0-9a-f]{20}$/;

export const AirtableWebhookParamsSchema = z.object({
  identifier: IdentifierSchema.openapi({ param: { name: "identifier", in: "path" } }),
  webhook_id: z
    .string()
    .regex(AIRTABLE_WEBHOOK_ID_PATTERN, "must be an Airlock webhook id (awh_ and 20 hex digits)")
    .openapi({ param: { name: "webhook_id", in: "path" }, example: "awh_3f2a9c0d1e4b5a6c7d8e" }),
});

export const CreateAirtableWebhookSchema = z
  .object({
    base_id: z
      .string()
      .regex(/^app[A-Za-z0-9]{14}$/, "must be an Airtable base id (app and 14 letters or digits)")
      .openapi({ example: "appABCDEFGHIJKLMN" }),
    specification: z
      .looseObject({
        options: z.looseObject({
          filters: z.looseObject({
            dataTypes: z
              .array(z.enum(["tableData", "tableFields", "tableMetadata"]))
              .min(1, "name at least one of tableData, tableFields, tableMetadata"),
          }),
        }),
      })
      .openapi({
        description:
          "Airtable's webhooks specification, passed through as is: https://airtable.com/developers/web/api/model/webhooks-specification",
        example: { options: { filters: { dataTypes: ["tableData"] } } },
      }),
  })
  .strict()
  .openapi("CreateAirtableWebhook");

const iso = z.string().openapi({ format: "date-time" });

export const AirtableWebhookSchema = z
  .object({
    id: z.string().openapi({ description: "Airlock's id; the last segment of notification_url." }),
    identifier: z.string(),
    base_id: z.string(),
    airtable_webhook_id: z.string().nullable(),
    status: z.enum(["creating", "active", "paused", "expired", "deleted_upstream"]).openapi({
      description:
        "`active` is refreshed and fetched; `paused` while its connection is not active (resumes after a reconnect); `expired` or `deleted_upstream` when Airtable no longer has it (one `airtable.webhook_lost` event); `creating` only while Airtable is asked.",
    }),
    specification: z.record(z.string(), z.unknown()),
    notification_url: z.string(),
    expiration_time: iso.nullable(),
    cursor: z.number().int().openapi({ description: "The number of the next payload Airlock fetches." }),
    last_ping_at: iso.nullable(),
    last_fetch_at: iso.nullable(),
    last_refreshed_at: iso.nullable(),
    created_at: iso,
    last_error: z.string().nullable(),
    delivery: z.object({
      pending: z
        .number()
        .int()
        .openapi({ description: "airtable.payloads events of this webhook not yet delivered." }),
      last_error: z.string().nullable(),
    }),
  })
  .openapi("AirtableWebhook");

export const AirtableWebhookListSchema = z
  .object({ airtable_webhooks: z.array(AirtableWebhookSchema) })
  .openapi("AirtableWebhookList");

const isoOrNull = (date: Date | null) => date?.toISOString() ?? null;

/** The JSON view; `paused` is the stored `active` on a connection that is not active. */
export function airtableWebhookToJson(
  webhook: AirtableWebhookRecord,
  delivery: AirtableWebhookDelivery,
  connectionStatus: ConnectionStatus,
): z.infer<typeof AirtableWebhookSchema> {
  return {
    id: webhook.id,
    identifier: webhook.identifier,
    base_id: webhook.baseId,
    airtable_webhook_id: webhook.airtableWebhookId,
    status: webhook.status === "active" && connectionStatus !== "active" ? "paused" : webhook.status,
    specification: webhook.specification,
    notification_url: webhook.notificationUrl,
    expiration_time: isoOrNull(webhook.expirationTime),
    cursor: webhook.cursor,
    last_ping_at: isoOrNull(webhook.lastPingAt),
    last_fetch_at: isoOrNull(webhook.lastFetchAt),
    last_refreshed_at: isoOrNull(webhook.lastRefreshedAt),
    created_at: webhook.createdAt.toISOString(),
    last_error: webhook.lastError,
    delivery: { pending: delivery.pending, last_error: delivery.lastError },
  };
}
