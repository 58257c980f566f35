/**
 * The `/v1` API for the app's backend: connect sessions, connections, fresh access tokens and a
 * connection's event history. Authentication (the secret key) is applied by the app in app.ts.
 */
import { createRoute, OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { AirlockError } from "../shared/errors.js";
import {
  AccessTokenSchema,
  ConnectionListQuerySchema,
  ConnectionListSchema,
  ConnectionSchema,
  ConnectSessionRequestSchema,
  ConnectSessionSchema,
  connectionToJson,
  ErrorSchema,
  EventListQuerySchema,
  EventListSchema,
  eventToJson,
  IdentifierParamSchema,
  MetadataUpdateSchema,
} from "./api-schemas.js";
import { createConnectSession } from "./connect-sessions.js";
import { contextFor, type ServiceContext } from "./context.js";
import { disconnect } from "./disconnect.js";
import { checkMetadata } from "./metadata.js";
import { bodyErrors, commonErrors, json, security } from "./openapi-responses.js";
import { withReconnectHint } from "./reconnect-hint.js";
import type { AppEnv } from "./request-log.js";
import { validationHook } from "./validation-hook.js";

const errors = commonErrors;

function notFound(identifier: string): AirlockError {
  return new AirlockError("not_found", `No connection with identifier "${identifier}".`, {
    hint: "List connections with GET /v1/connections, or create one with POST /v1/connect-sessions.",
  });
}

const createSessionRoute = createRoute({
  method: "post",
  path: "/v1/connect-sessions",
  tags: ["connect"],
  summary: "Create a connect link for an end user",
  security,
  request: { body: { required: true, content: json(ConnectSessionRequestSchema) } },
  responses: {
    201: { description: "Created", content: json(ConnectSessionSchema) },
    ...bodyErrors("64 KiB"),
    ...errors,
  },
});

const listRoute = createRoute({
  method: "get",
  path: "/v1/connections",
  tags: ["connections"],
  summary: "List connections (paginated by identifier)",
  security,
  request: { query: ConnectionListQuerySchema },
  responses: {
    200: { description: "A page of connections", content: json(ConnectionListSchema) },
    ...errors,
  },
});

const getRoute = createRoute({
  method: "get",
  path: "/v1/connections/{identifier}",
  tags: ["connections"],
  summary: "Get one connection (no secrets); a disconnected one is shown as revoked",
  security,
  request: { params: IdentifierParamSchema },
  responses: {
    200: { description: "The connection", content: json(ConnectionSchema) },
    404: { description: "No such connection", content: json(ErrorSchema) },
    ...errors,
  },
});

const deleteRoute = createRoute({
  method: "delete",
  path: "/v1/connections/{identifier}",
  tags: ["connections"],
  summary: "Disconnect: the connection stays, as revoked, with its tokens erased and its events kept",
  description:
    "Marks the connection `revoked` (status_reason `disconnected`), erases its tokens and writes a `connection.deleted` event; the proxy and the access-token route then answer 409 `reauth_required`. A new connect link for the identifier reactivates it in place. Disconnecting a revoked connection again changes nothing (204). Airtable has no revocation endpoint: the user removes the integration from their Airtable account to end the grant there.",
  security,
  request: { params: IdentifierParamSchema },
  responses: {
    204: { description: "Disconnected (or already disconnected)" },
    404: { description: "No such connection", content: json(ErrorSchema) },
    ...errors,
  },
});

const metadataRoute = createRoute({
  method: "patch",
  path: "/v1/connections/{identifier}",
  tags: ["connections"],
  summary: "Replace the connection's metadata (null clears it)",
  description:
    "The body's `metadata` replaces the connection's as a whole (no merge); `null` clears it. It is an object of at most 4 KiB as JSON and 50 top-level keys of 1–100 characters. Later events and webhooks of the connection carry it; its tokens and version do not change.",
  security,
  request: {
    params: IdentifierParamSchema,
    body: { required: true, content: json(MetadataUpdateSchema) },
  },
  responses: {
    200: { description: "The connection, with its new metadata", content: json(ConnectionSchema) },
    404: { description: "No such connection", content: json(ErrorSchema) },
    ...bodyErrors("64 KiB"),
    ...errors,
  },
});

const accessTokenRoute = createRoute({
  method: "post",
  path: "/v1/connections/{identifier}/access-token",
  tags: ["connections"],
  summary: "A fresh access token, valid for at least 5 minutes",
  security,
  request: { params: IdentifierParamSchema },
  responses: {
    200: { description: "The token", content: json(AccessTokenSchema) },
    404: { description: "No such connection", content: json(ErrorSchema) },
    409: {
      description: "reauth_required: the user must reconnect (also for a disconnected, revoked connection)",
      content: json(ErrorSchema),
    },
    503: { description: "transient: Airtable is unreachable; retry", content: json(ErrorSchema) },
    ...errors,
  },
});

const eventsRoute = createRoute({
  method: "get",
  path: "/v1/connections/{identifier}/events",
  tags: ["connections"],
  summary: "A connection's event history, newest first",
  security,
  request: { params: IdentifierParamSchema, query: EventListQuerySchema },
  responses: { 200: { description: "Events", content: json(EventListSchema) }, ...errors },
});

/** A 64 KiB limit on a JSON body, answered `payload_too_large` with `hint`. */
function jsonBodyLimit(hint: string) {
  return bodyLimit({
    maxSize: 64 * 1024,
    onError: () => {
      throw new AirlockError("payload_too_large", "The request body is larger than 64 KiB.", { hint });
    },
  });
}

/** `PATCH /v1/connections/:identifier`: checks the body's metadata and replaces the connection's. */
async function updateMetadata(ctx: ServiceContext, identifier: string, body: { metadata?: unknown }) {
  if (!("metadata" in body)) {
    throw new AirlockError("invalid_input", "The request is not valid: metadata: is missing.", {
      hint: 'Send {"metadata": {…}} to replace it, or {"metadata": null} to clear it.',
      details: { field: "metadata" },
    });
  }
  const metadata = checkMetadata(body.metadata);
  if (!(await ctx.store.setConnectionMetadata(identifier, metadata, ctx.now()))) throw notFound(identifier);
  const connection = await ctx.store.getConnection(identifier);
  if (!connection) throw notFound(identifier);
  return connection;
}

/** The context a connect session is made on: the route's, or the integration its body names. */
async function sessionContext(ctx: ServiceContext, integration: string | undefined): Promise<ServiceContext> {
  return integration === undefined ? ctx : contextFor(ctx, await ctx.integrations.require(integration));
}

/**
 * The `/v1` JSON routes (without the proxy, which has its own module).
 */
export function apiRoutes(ctx: ServiceContext): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  app.use(
    "/v1/connect-sessions",
    jsonBodyLimit("Send only identifier, integration, scopes, return_url, metadata and expected_email."),
  );

  app.openapi(createSessionRoute, async (c) => {
    const body = c.req.valid("json");
    const session = await createConnectSession(await sessionContext(ctx, body.integration), {
      identifier: body.identifier,
      scopes: body.scopes,
      returnUrl: body.return_url,
      metadata: body.metadata,
      expectedEmail: body.expected_email,
    });
    c.header("Cache-Control", "no-store");
    return c.json(session, 201);
  });

  app.openapi(listRoute, async (c) => {
    const query = c.req.valid("query");
    const page = await ctx.store.listConnections({
      limit: query.limit,
      after: query.cursor,
      status: query.status,
    });
    return c.json({ connections: page.items.map(connectionToJson), next_cursor: page.nextCursor }, 200);
  });

  app.openapi(getRoute, async (c) => {
    const { identifier } = c.req.valid("param");
    const connection = await ctx.store.getConnection(identifier);
    if (!connection) throw notFound(identifier);
    return c.json(connectionToJson(connection), 200);
  });

  app.openapi(deleteRoute, async (c) => {
    const { identifier } = c.req.valid("param");
    const outcome = await disconnect(ctx, identifier, "api");
    if (outcome === "not_found") throw notFound(identifier);
    c.var.log.info({ identifier, outcome }, "connection disconnected");
    return c.body(null, 204);
  });

  app.on(
    "PATCH",
    "/v1/connections/:identifier",
    jsonBodyLimit("Send only {metadata}; it may take at most 4 KiB as JSON."),
  );
  app.openapi(metadataRoute, async (c) => {
    const { identifier } = c.req.valid("param");
    const connection = await updateMetadata(ctx, identifier, c.req.valid("json"));
    c.var.log.info({ identifier, cleared: connection.metadata === null }, "connection metadata set");
    return c.json(connectionToJson(connection), 200);
  });

  app.openapi(accessTokenRoute, async (c) => {
    const { identifier } = c.req.valid("param");
    try {
      const token = await ctx.tokens.getAccessToken(identifier);
      c.header("Cache-Control", "no-store");
      return c.json({ access_token: token.accessToken, expires_at: token.expiresAt.toISOString() }, 200);
    } catch (error) {
      throw withReconnectHint(error, identifier);
    }
  });

  app.openapi(eventsRoute, async (c) => {
    const { identifier } = c.req.valid("param");
    const { limit } = c.req.valid("query");
    const events = await ctx.store.listEvents(identifier, { limit });
    return c.json({ events: events.map(eventToJson) }, 200);
  });

  return app;
}
