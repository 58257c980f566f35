/**
 * The Airtable webhook routes: create, list and delete a connection's webhooks under `/v1`, and
 * `POST /airtable/notifications/:id`, where Airtable pings. A ping is verified against the
 * webhook's MAC secret before anything else happens; it only counts a ping and wakes the worker,
 * so it is answered at once (the payloads are fetched after the answer).
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { createRoute, OpenAPIHono, type z } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import type { CreateWebhookResult } from "../../airtable/api.js";
import { AirlockError } from "../../shared/errors.js";
import type { ConnectionRecord } from "../../store/types.js";
import { ErrorSchema, IdentifierParamSchema } from "../api-schemas.js";
import type { ServiceContext } from "../context.js";
import { bodyErrors, commonErrors, json, security } from "../openapi-responses.js";
import { reconnectHint } from "../reconnect-hint.js";
import type { AppEnv } from "../request-log.js";
import { validationHook } from "../validation-hook.js";
import {
  AIRTABLE_WEBHOOK_ID_PATTERN,
  AirtableWebhookListSchema,
  AirtableWebhookParamsSchema,
  AirtableWebhookSchema,
  airtableWebhookToJson,
  CreateAirtableWebhookSchema,
} from "./schemas.js";
import { airtableApiFor, creationError, mayHaveCreated } from "./upstream.js";

export const NOTIFICATIONS_PATH = "/airtable/notifications";

const errors = {
  ...commonErrors,
  404: { description: "No such connection (or webhook)", content: json(ErrorSchema) },
  429: {
    description:
      "rate_limited: too many wrong secret keys from this address (per instance), or Airtable's rate limit for the base; wait Retry-After seconds",
    content: json(ErrorSchema),
  },
} as const;
const tags = ["airtable webhooks"];

const createRouteDef = createRoute({
  method: "post",
  path: "/v1/connections/{identifier}/airtable-webhooks",
  tags,
  summary: "Create an Airtable webhook for the connection; its payloads arrive as airtable.payloads events",
  description:
    "Creates the webhook on Airtable with the connection's token and notificationUrl = AIRLOCK_PUBLIC_URL/airtable/notifications/{id}. Airlock keeps the MAC secret (encrypted), refreshes the webhook well inside Airtable's 7 days, verifies every ping, fetches the payloads once across all instances and delivers them to AIRLOCK_WEBHOOK_URL as `airtable.payloads` events, in cursor order.",
  security,
  request: {
    params: IdentifierParamSchema,
    body: { required: true, content: json(CreateAirtableWebhookSchema) },
  },
  responses: {
    201: { description: "Created", content: json(AirtableWebhookSchema) },
    ...bodyErrors("64 KiB"),
    403: {
      description: "access_denied: Airtable refused (scope webhook:manage, base not granted, not a creator)",
      content: json(ErrorSchema),
    },
    409: {
      description:
        "reauth_required: the connection is not active; conflict: AIRLOCK_WEBHOOK_URL is not set (or AIRLOCK_WEBHOOK_EVENTS leaves out airtable.payloads)",
      content: json(ErrorSchema),
    },
    ...errors,
  },
});

const listRouteDef = createRoute({
  method: "get",
  path: "/v1/connections/{identifier}/airtable-webhooks",
  tags,
  summary: "The connection's Airtable webhooks with expiry, cursor, last ping and delivery state",
  security,
  request: { params: IdentifierParamSchema },
  responses: { 200: { description: "Webhooks", content: json(AirtableWebhookListSchema) }, ...errors },
});

const deleteRouteDef = createRoute({
  method: "delete",
  path: "/v1/connections/{identifier}/airtable-webhooks/{webhook_id}",
  tags,
  summary: "Delete an Airtable webhook on Airtable and in Airlock",
  description:
    "Deletes it on Airtable (one that Airtable no longer has is fine), then here; payload events already queued are still delivered. For a connection that is not active Airtable cannot be asked: the webhook is forgotten here and, no longer refreshed, Airtable disables it within 7 days.",
  security,
  request: { params: AirtableWebhookParamsSchema },
  responses: {
    204: { description: "Deleted" },
    503: { description: "transient: Airtable could not be reached; retry", content: json(ErrorSchema) },
    ...errors,
  },
});

function noConnection(identifier: string): AirlockError {
  return new AirlockError("not_found", `No connection with identifier "${identifier}".`, {
    hint: "List connections with GET /v1/connections, or create one with POST /v1/connect-sessions.",
  });
}

function noWebhook(identifier: string, id: string): AirlockError {
  return new AirlockError("not_found", `The connection "${identifier}" has no Airtable webhook ${id}.`, {
    hint: `List them with GET /v1/connections/${identifier}/airtable-webhooks.`,
  });
}

/** Airtable webhooks deliver through the outbox: without a receiver their payloads go nowhere. */
function requireDelivery(ctx: ServiceContext): void {
  const webhook = ctx.config.webhook;
  if (!webhook) {
    throw new AirlockError(
      "conflict",
      "Airtable webhooks need AIRLOCK_WEBHOOK_URL: their payloads are delivered there.",
      {
        hint: "Set AIRLOCK_WEBHOOK_URL (your receiver) and AIRLOCK_WEBHOOK_SECRET, restart, and create the webhook again.",
      },
    );
  }
  if (!webhook.events.has("airtable.payloads")) {
    throw new AirlockError("conflict", "AIRLOCK_WEBHOOK_EVENTS leaves out airtable.payloads.", {
      hint: "Add airtable.payloads (and airtable.webhook_lost) to AIRLOCK_WEBHOOK_EVENTS, or unset it for the defaults.",
    });
  }
}

async function activeConnection(ctx: ServiceContext, identifier: string): Promise<ConnectionRecord> {
  const connection = await ctx.store.getConnection(identifier);
  if (!connection) throw noConnection(identifier);
  if (connection.status !== "active") {
    throw new AirlockError("reauth_required", `The connection "${identifier}" is ${connection.status}.`, {
      hint: reconnectHint(identifier),
      details: { identifier, status: connection.status },
    });
  }
  return connection;
}

/** Creates it upstream, recorded first as `creating` so a failure or crash leaves a trace, not an orphan. */
async function createWebhook(
  ctx: ServiceContext,
  identifier: string,
  body: z.infer<typeof CreateAirtableWebhookSchema>,
) {
  requireDelivery(ctx);
  await activeConnection(ctx, identifier);
  const id = `awh_${randomBytes(10).toString("hex")}`;
  const notificationUrl = `${ctx.config.publicUrl}${NOTIFICATIONS_PATH}/${id}`;
  await ctx.store.createAirtableWebhook({
    id,
    identifier,
    baseId: body.base_id,
    specification: body.specification,
    notificationUrl,
    now: ctx.now(),
  });
  let created: CreateWebhookResult;
  try {
    created = await airtableApiFor(ctx, identifier).createWebhook(body.base_id, {
      notificationUrl,
      specification: body.specification,
    });
  } catch (error) {
    const row = mayHaveCreated(error) ? await ctx.store.getAirtableWebhook(id) : null;
    // No clear answer: a webhook may exist upstream; clean it up now, or the keeper will.
    if (row) await ctx.airtableWebhooks.abandonCreation(row);
    else await ctx.store.deleteAirtableWebhook(id);
    throw creationError(error, body.base_id);
  }
  await ctx.store.activateAirtableWebhook(id, {
    airtableWebhookId: created.id,
    macSecret: created.macSecretBase64,
    expirationTime: created.expirationTime ? new Date(created.expirationTime) : null,
    now: ctx.now(),
  });
  const stored = await ctx.store.getAirtableWebhook(id);
  return airtableWebhookToJson(stored!, { pending: 0, lastError: null }, "active");
}

/** Removes it upstream when the connection can still ask, then here. */
async function deleteWebhook(ctx: ServiceContext, identifier: string, id: string): Promise<void> {
  const webhook = await ctx.store.getAirtableWebhook(id);
  if (!webhook || webhook.identifier !== identifier || webhook.integration !== ctx.integration.id) {
    throw noWebhook(identifier, id);
  }
  const connection = await ctx.store.getConnection(identifier);
  const upstream = webhook.airtableWebhookId !== null && webhook.status === "active";
  if (upstream && connection?.status === "active") {
    try {
      await airtableApiFor(ctx, identifier).deleteWebhook(webhook.baseId, webhook.airtableWebhookId!);
    } catch (error) {
      const gone = error instanceof AirlockError && error.details?.status === 404;
      if (!gone) throw error;
    }
  }
  await ctx.store.deleteAirtableWebhook(id);
}

/** The `/v1/connections/:identifier/airtable-webhooks` routes. */
export function airtableWebhookRoutes(ctx: ServiceContext): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  app.use(
    "/v1/connections/:identifier/airtable-webhooks",
    bodyLimit({
      maxSize: 64 * 1024,
      onError: () => {
        throw new AirlockError("payload_too_large", "The request body is larger than 64 KiB.", {
          hint: "Send only base_id and specification.",
        });
      },
    }),
  );

  app.openapi(createRouteDef, async (c) => {
    const { identifier } = c.req.valid("param");
    const view = await createWebhook(ctx, identifier, c.req.valid("json"));
    c.var.log.info({ identifier, webhook_id: view.id, base_id: view.base_id }, "Airtable webhook created");
    return c.json(view, 201);
  });

  app.openapi(listRouteDef, async (c) => {
    const { identifier } = c.req.valid("param");
    const connection = await ctx.store.getConnection(identifier);
    if (!connection) throw noConnection(identifier);
    const webhooks = await ctx.store.listAirtableWebhooks(identifier);
    const views = webhooks.map((w) => airtableWebhookToJson(w, w.delivery, connection.status));
    return c.json({ airtable_webhooks: views }, 200);
  });

  app.openapi(deleteRouteDef, async (c) => {
    const { identifier, webhook_id } = c.req.valid("param");
    await deleteWebhook(ctx, identifier, webhook_id);
    c.var.log.info({ identifier, webhook_id }, "Airtable webhook deleted");
    return c.body(null, 204);
  });

  return app;
}

/** `X-Airtable-Content-MAC: hmac-sha256=<hex>` over the raw body, keyed by the decoded MAC secret. */
export function verifyNotificationMac(body: Uint8Array, header: string | undefined, secretBase64: string) {
  const match = /^hmac-sha256=([0-9a-f]{64})$/i.exec(header?.trim() ?? "");
  if (!match) return false;
  const expected = createHmac("sha256", Buffer.from(secretBase64, "base64")).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(match[1]!, "hex"));
}

/** `POST /airtable/notifications/:id`: verify, count, wake the worker, answer 204. */
export function notificationRoutes(ctx: ServiceContext): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>();
  app.post(
    `${NOTIFICATIONS_PATH}/:id`,
    bodyLimit({
      maxSize: 16 * 1024,
      onError: () => {
        throw new AirlockError("payload_too_large", "A notification body is larger than 16 KiB.", {
          hint: "Airtable's pings are a few hundred bytes; this is not one.",
        });
      },
    }),
    async (c) => {
      const id = c.req.param("id");
      const secret = AIRTABLE_WEBHOOK_ID_PATTERN.test(id)
        ? await ctx.store.getAirtableWebhookSecret(id)
        : null;
      if (secret === null) {
        ctx.metrics.airtablePings.inc({ outcome: "unknown" });
        throw new AirlockError("not_found", "No Airtable webhook is kept at this notification URL.", {
          hint: "It was deleted, or never created through Airlock; delete the webhook on Airtable if it still pings.",
        });
      }
      const body = new Uint8Array(await c.req.arrayBuffer());
      if (!verifyNotificationMac(body, c.req.header("x-airtable-content-mac"), secret)) {
        ctx.metrics.airtablePings.inc({ outcome: "forged" });
        c.var.log.warn({ webhook_id: id }, "Airtable notification refused: bad MAC");
        throw new AirlockError("unauthorized", "The notification's X-Airtable-Content-MAC does not verify.", {
          hint: "Only Airtable, with this webhook's MAC secret, can ping here.",
        });
      }
      await ctx.store.recordAirtableWebhookPing(id, ctx.now());
      ctx.metrics.airtablePings.inc({ outcome: "accepted" });
      void ctx.airtableWebhooks.work(id);
      return c.body(null, 204);
    },
  );
  return app;
}
