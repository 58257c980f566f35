/**
 * The webhook endpoints under /v0/bases/:baseId/webhooks, each a handler over the hub: the base
 * gate (webhook:manage, the grant, the user's role), the request checks, then the hub's answer.
 */
import type { Context } from "hono";
import { z } from "zod";
import { type ApiEnv, baseFor, fail, positiveInt } from "../api-context.js";
import { INVALID_PERMISSIONS, invalidRequest, NOT_FOUND } from "../api-errors.js";
import type { SampleBase } from "../sample-data.js";
import type { EmulatorState } from "../state.js";
import { MAX_PAYLOADS_PER_PAGE, type Webhook, type WebhookHub } from "./hub.js";
import {
  createWebhookBodySchema,
  dataTypeScopes,
  describeIssues,
  specificationProblem,
  type WebhookSpecification,
} from "./spec.js";

const WEBHOOK_ID = /^ach[A-Za-z0-9]{14}$/;

const enableBodySchema = z.strictObject({ enable: z.boolean() });

/**
 * The integration the caller's token belongs to (its grant's client id): webhooks are per
 * integration, each sees only its own, and each may have 2 per base.
 *
 * @example
 * hub.list(base.id, ownerOf(c)); // the caller's integration's webhooks on the base
 */
export function ownerOf(c: Context<ApiEnv>): string {
  return c.get("access").grant.clientId;
}

/** The base after the shared gate with webhook:manage; `creator` also needs the user to be its creator. */
function webhookBase(c: Context<ApiEnv>, state: EmulatorState, creator: boolean): SampleBase | Response {
  const base = baseFor(c, state, "webhook:manage");
  if (base instanceof Response) return base;
  if (creator && base.permissionLevel !== "create") return fail(c, INVALID_PERMISSIONS, 403);
  return base;
}

/** The caller's own webhook named in the path, or the 404 Airtable gives for any other id. */
function ownWebhook(c: Context<ApiEnv>, hub: WebhookHub, base: SampleBase): Webhook | Response {
  const id = c.req.param("webhookId") ?? "";
  const webhook = WEBHOOK_ID.test(id) ? hub.find(base.id, id, ownerOf(c)) : undefined;
  return webhook ?? fail(c, NOT_FOUND, 404);
}

/** The JSON body checked against `schema`; a 422 names what is wrong. */
async function jsonBody<T>(c: Context<ApiEnv>, schema: z.ZodType<T>): Promise<T | Response> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    return fail(c, invalidRequest("The request body must be a JSON object."), 422);
  }
  const parsed = schema.safeParse(raw);
  return parsed.success ? parsed.data : fail(c, invalidRequest(describeIssues(parsed.error)), 422);
}

/** 403 unless the token holds the scopes the specification's dataTypes need. */
function missingDataTypeScope(c: Context<ApiEnv>, spec: WebhookSpecification): Response | undefined {
  const scopes = c.get("scopes");
  return dataTypeScopes(spec).every((s) => scopes.includes(s))
    ? undefined
    : fail(c, INVALID_PERMISSIONS, 403);
}

const iso = (ms: number) => new Date(ms).toISOString();

/** `POST /v0/bases/:baseId/webhooks` → `{id, macSecretBase64, expirationTime}` (the secret only here). */
export async function createWebhook(
  c: Context<ApiEnv>,
  state: EmulatorState,
  hub: WebhookHub,
): Promise<Response> {
  const base = webhookBase(c, state, true);
  if (base instanceof Response) return base;
  const body = await jsonBody(c, createWebhookBodySchema);
  if (body instanceof Response) return body;
  const refused = missingDataTypeScope(c, body.specification);
  if (refused) return refused;
  const problem = specificationProblem(base, body.specification);
  if (problem) return fail(c, invalidRequest(problem), 422);
  const created = hub.create({
    baseId: base.id,
    owner: ownerOf(c),
    notificationUrl: body.notificationUrl ?? null,
    specification: body.specification,
  });
  if (typeof created === "string") {
    const limit = created === "TOO_MANY_WEBHOOKS_IN_BASE" ? "This base has" : "This integration has";
    return fail(c, { error: { type: created, message: `${limit} the most webhooks allowed.` } }, 422);
  }
  return c.json({
    id: created.id,
    macSecretBase64: created.macSecret.toString("base64"),
    expirationTime: iso(created.expiresAt),
  });
}

/** A webhook as list webhooks shows it. */
function webhookView(webhook: Webhook, active: boolean) {
  return {
    id: webhook.id,
    areNotificationsEnabled: webhook.notificationsEnabled,
    cursorForNextPayload: webhook.cursorForNextPayload,
    isHookEnabled: active,
    lastNotificationResult: webhook.lastNotificationResult,
    lastSuccessfulNotificationTime: webhook.lastSuccessfulNotificationTime,
    notificationUrl: webhook.notificationUrl,
    expirationTime: iso(webhook.expiresAt),
    specification: webhook.specification,
  };
}

/** `GET /v0/bases/:baseId/webhooks`: the caller's webhooks on the base (expired ones for a week more). */
export function listWebhooks(c: Context<ApiEnv>, state: EmulatorState, hub: WebhookHub): Response {
  const base = webhookBase(c, state, false);
  if (base instanceof Response) return base;
  const webhooks = hub.list(base.id, ownerOf(c));
  return c.json({ webhooks: webhooks.map((w) => webhookView(w, hub.isActive(w))) });
}

/** `DELETE /v0/bases/:baseId/webhooks/:webhookId` → `{}`. */
export function deleteWebhook(c: Context<ApiEnv>, state: EmulatorState, hub: WebhookHub): Response {
  const base = webhookBase(c, state, true);
  if (base instanceof Response) return base;
  const webhook = ownWebhook(c, hub, base);
  if (webhook instanceof Response) return webhook;
  hub.delete(webhook);
  return c.json({});
}

/** `POST …/:webhookId/refresh` → `{expirationTime}`, 7 days from now; an expired webhook stays expired. */
export function refreshWebhook(c: Context<ApiEnv>, state: EmulatorState, hub: WebhookHub): Response {
  const base = webhookBase(c, state, true);
  if (base instanceof Response) return base;
  const webhook = ownWebhook(c, hub, base);
  if (webhook instanceof Response) return webhook;
  if (!hub.isActive(webhook))
    return fail(c, invalidRequest("This webhook has expired and can no longer be refreshed."), 422);
  hub.extend(webhook);
  return c.json({ expirationTime: iso(webhook.expiresAt) });
}

/** `POST …/:webhookId/enableNotifications {enable}` → `{}`: pings on or off (payloads are kept either way). */
export async function enableNotifications(
  c: Context<ApiEnv>,
  state: EmulatorState,
  hub: WebhookHub,
): Promise<Response> {
  const base = webhookBase(c, state, true);
  if (base instanceof Response) return base;
  const webhook = ownWebhook(c, hub, base);
  if (webhook instanceof Response) return webhook;
  const body = await jsonBody(c, enableBodySchema);
  if (body instanceof Response) return body;
  webhook.notificationsEnabled = body.enable;
  return c.json({});
}

/** `GET …/:webhookId/payloads?cursor=&limit=` → `{payloads, cursor, mightHaveMore}`. */
export function listPayloads(c: Context<ApiEnv>, state: EmulatorState, hub: WebhookHub): Response {
  const base = webhookBase(c, state, false);
  if (base instanceof Response) return base;
  const webhook = ownWebhook(c, hub, base);
  if (webhook instanceof Response) return webhook;
  const refused = missingDataTypeScope(c, webhook.specification);
  if (refused) return refused;
  const cursor = positiveInt(c.req.query("cursor"));
  if (cursor === "invalid") return fail(c, invalidRequest("The cursor must be a positive integer."), 422);
  const limit = positiveInt(c.req.query("limit"));
  if (limit === "invalid" || (limit !== undefined && limit > MAX_PAYLOADS_PER_PAGE))
    return fail(c, invalidRequest(`The limit must be an integer from 1 to ${MAX_PAYLOADS_PER_PAGE}.`), 422);
  return c.json(hub.payloadsPage(webhook, cursor ?? 1, limit ?? MAX_PAYLOADS_PER_PAGE));
}
