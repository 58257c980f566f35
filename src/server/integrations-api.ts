/**
 * `GET /v1/integrations`, and `POST /v1/integrations` / `DELETE /v1/integrations/:id` for the
 * integrations managed through the API (issue 12): stored, the secret encrypted, and picked up by
 * every instance (stored-integrations.ts). The AIRTABLE_* one and the file's are listed, never
 * changed here. Admin only, like every /v1 route outside a key's narrower scope.
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { parseScopes } from "../airtable/scopes.js";
import { AirlockError, isAirlockError } from "../shared/errors.js";
import type { ServiceContext } from "./context.js";
import type { Integration } from "./integrations.js";
import { INTEGRATION_ID_PATTERN } from "./integrations-config.js";
import { bodyErrors, commonErrors, json, security } from "./openapi-responses.js";
import type { AppEnv } from "./request-log.js";

const IntegrationSchema = z
  .object({
    id: z.string().openapi({ example: "readonly" }),
    name: z.string(),
    client_id: z.string(),
    scopes: z
      .array(z.string())
      .openapi({ description: "Its scopes: connect sessions ask for these or a subset." }),
    default: z
      .boolean()
      .openapi({ description: "True for the AIRTABLE_* integration, the one /v1 routes act on." }),
    source: z.enum(["environment", "file", "api"]).openapi({
      description: "Where it is configured: AIRTABLE_*, AIRLOCK_INTEGRATIONS_FILE, or POST /v1/integrations.",
    }),
    routes: z
      .string()
      .openapi({ example: "/v1/integrations/readonly", description: "Prefix of its connection routes." }),
  })
  .openapi("Integration");

const CreateIntegrationSchema = z
  .object({
    id: z
      .string()
      .regex(
        INTEGRATION_ID_PATTERN,
        "must be lower-case letters, digits, - or _, at most 63, starting with a letter or digit",
      )
      .openapi({ example: "readonly" }),
    name: z.string().min(1).max(100).optional().openapi({ example: "Read-only" }),
    client_id: z.string().min(1).max(200).regex(/^\S+$/, "must not contain spaces"),
    client_secret: z
      .string()
      .min(1)
      .max(500)
      .optional()
      .openapi({ description: "Absent for a public client. Stored encrypted; never returned." }),
    scopes: z
      .union([z.string().min(1).max(2000), z.array(z.string().min(1).max(100)).min(1).max(50)])
      .openapi({
        example: "data.records:read schema.bases:read",
        description: "Space-separated, or a list.",
      }),
  })
  .strict()
  .openapi("IntegrationRequest");

const listRoute = createRoute({
  method: "get",
  path: "/v1/integrations",
  tags: ["integrations"],
  summary: "List the Airtable OAuth integrations this deployment acts for",
  description:
    "`default` is the AIRTABLE_* one; more come from AIRLOCK_INTEGRATIONS_FILE and POST /v1/integrations. Every connection route also exists under `/v1/integrations/{integration}/` (e.g. `POST /v1/integrations/readonly/connect-sessions`, `GET /v1/integrations/readonly/connections/{identifier}`, `ANY /v1/integrations/readonly/proxy/{identifier}/v0/…`), acting on that integration's connections; a connection is keyed by (integration, identifier).",
  security,
  responses: {
    200: {
      description: "The integrations",
      content: json(z.object({ integrations: z.array(IntegrationSchema) })),
    },
    ...commonErrors,
  },
});

const createIntegrationRoute = createRoute({
  method: "post",
  path: "/v1/integrations",
  tags: ["integrations"],
  summary: "Add an Airtable OAuth integration (every instance serves it within seconds)",
  description:
    "Register this service's callback (`$AIRLOCK_PUBLIC_URL/oauth/callback`) with the integration on Airtable first. The instance that answers serves it at once; the others when a request names it, and their keep-alive within 5 seconds. Not in demo mode (the embedded emulator's integrations are fixed at start).",
  security,
  request: { body: { required: true, content: json(CreateIntegrationSchema) } },
  responses: {
    201: { description: "Created", content: json(IntegrationSchema) },
    409: { description: "conflict: the id or client id is taken, or demo mode", content: json(z.unknown()) },
    ...bodyErrors("4 KiB"),
    ...commonErrors,
  },
});

const deleteIntegrationRoute = createRoute({
  method: "delete",
  path: "/v1/integrations/{id}",
  tags: ["integrations"],
  summary: "Remove an integration created through the API",
  description:
    "Refused (409) while any of its connections is not disconnected, and for the AIRTABLE_* and file integrations. Its disconnected connections' rows and histories stay in the store.",
  security,
  request: { params: z.object({ id: z.string().max(63) }) },
  responses: {
    204: { description: "Removed; every instance stops serving it within seconds" },
    409: {
      description: "conflict: it still has connections, or is not managed through the API",
      content: json(z.unknown()),
    },
    ...commonErrors,
  },
});

function integrationJson(ctx: ServiceContext, integration: Integration) {
  return {
    id: integration.id,
    name: integration.name,
    client_id: integration.clientId,
    scopes: [...integration.scopes],
    default: integration === ctx.integrations.default,
    source: integration.source,
    routes: `/v1/integrations/${integration.id}`,
  };
}

function conflict(message: string, hint: string): AirlockError {
  return new AirlockError("conflict", message, { hint });
}

/** `POST /v1/integrations`: checks, stores, and serves it on this instance before answering. */
async function createIntegration(ctx: ServiceContext, body: z.infer<typeof CreateIntegrationSchema>) {
  if (ctx.demo) {
    throw conflict(
      "In demo mode the embedded emulator hosts only the integrations it started with.",
      "Add the integration to the file AIRLOCK_INTEGRATIONS_FILE names and restart, or run against a real Airtable integration.",
    );
  }
  let scopes: string[];
  try {
    scopes = parseScopes(body.scopes);
  } catch (error) {
    if (isAirlockError(error))
      throw new AirlockError("invalid_input", `scopes: ${error.message}`, { hint: error.hint });
    throw error;
  }
  await ctx.integrations.sync();
  if (ctx.integrations.find(body.id)) {
    throw conflict(
      `The integration "${body.id}" already exists.`,
      "Choose another id, or delete that one first.",
    );
  }
  if (ctx.integrations.list().some((i) => i.clientId === body.client_id)) {
    throw conflict(
      "Another integration already has this client_id.",
      "Each Airtable integration has its own client id (https://airtable.com/create/oauth).",
    );
  }
  const created = await ctx.store.createStoredIntegration({
    id: body.id,
    name: body.name ?? body.id,
    clientId: body.client_id,
    clientSecret: body.client_secret ?? null,
    scopes,
    createdAt: ctx.now(),
  });
  if (!created) {
    throw conflict(
      "Another request created this id or client id just now.",
      "List them with GET /v1/integrations.",
    );
  }
  await ctx.integrations.sync();
  ctx.logger.info({ integration: body.id }, "integration created through the API");
  return ctx.integrations.get(body.id);
}

/** `DELETE /v1/integrations/:id`: only API-made ones, and only without live connections. */
async function deleteIntegration(ctx: ServiceContext, id: string): Promise<void> {
  const integration = await ctx.integrations.require(id);
  if (integration.source !== "api") {
    throw conflict(
      `The integration "${id}" is configured by ${integration.source === "file" ? "AIRLOCK_INTEGRATIONS_FILE" : "AIRTABLE_*"}, not through the API.`,
      "Remove it there and restart.",
    );
  }
  const counts = await integration.store.countConnectionsByStatus();
  const live = counts.active + counts.reauth_required;
  if (live > 0) {
    throw conflict(
      `The integration "${id}" still has ${live} connection${live === 1 ? "" : "s"} that ${live === 1 ? "is" : "are"} not disconnected.`,
      `Disconnect them first (DELETE /v1/integrations/${id}/connections/{identifier}; GET /v1/integrations/${id}/connections lists them).`,
    );
  }
  await ctx.store.deleteStoredIntegration(id);
  await ctx.integrations.sync();
  ctx.logger.info({ integration: id }, "integration deleted through the API");
}

/**
 * Mounts the three routes on `app` (before the `/v1/integrations/:id/…` hand-over).
 *
 * @example
 * integrationApiRoutes(app, ctx);
 */
export function integrationApiRoutes(app: OpenAPIHono<AppEnv>, ctx: ServiceContext): void {
  app.openapi(listRoute, async (c) => {
    await ctx.integrations.sync();
    return c.json({ integrations: ctx.integrations.list().map((i) => integrationJson(ctx, i)) }, 200);
  });
  app.use(
    "/v1/integrations",
    bodyLimit({
      maxSize: 4 * 1024,
      onError: () => {
        throw new AirlockError("payload_too_large", "The request body is larger than 4 KiB.", {
          hint: "Send only id, name, client_id, client_secret and scopes.",
        });
      },
    }),
  );
  app.openapi(createIntegrationRoute, async (c) => {
    const integration = await createIntegration(ctx, c.req.valid("json"));
    c.header("Cache-Control", "no-store");
    return c.json(integrationJson(ctx, integration), 201);
  });
  app.openapi(deleteIntegrationRoute, async (c) => {
    await deleteIntegration(ctx, c.req.valid("param").id);
    return c.body(null, 204);
  });
}
