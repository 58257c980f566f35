/**
 * `/v1/api-keys` (issue 12): named API keys, created (the key shown once, only its SHA-256
 * stored), listed and revoked. Only admin keys reach these routes (api-key-scopes.ts); a revoke
 * takes effect at once on every instance, since authentication reads the store on each request.
 */
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import { AirlockError } from "../shared/errors.js";
import type { ApiKeyRecord } from "../store/types.js";
import { API_KEY_SCOPES, generateApiKey, hashApiKey, newApiKeyId } from "./api-key-scopes.js";
import { ErrorSchema } from "./api-schemas.js";
import type { ServiceContext } from "./context.js";
import { bodyErrors, commonErrors, json, security } from "./openapi-responses.js";
import type { AppEnv } from "./request-log.js";
import { validationHook } from "./validation-hook.js";

/** Printable: no control, format or line/paragraph separator characters, and not only spaces. */
const PRINTABLE_RE = /^(?=.*\S)[^\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+$/u;

export const ApiKeyScopeSchema = z.enum(API_KEY_SCOPES).openapi({
  description:
    "`admin`: everything under /v1, as AIRLOCK_SECRET_KEY; `connect`: only POST /v1/connect-sessions; `proxy`: only /v1/proxy/* and POST /v1/connections/{identifier}/access-token.",
});

export const ApiKeyRequestSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(100)
      .regex(PRINTABLE_RE, "must be printable characters, not only spaces")
      .openapi({ example: "billing workers", description: "1 to 100 printable characters." }),
    scope: ApiKeyScopeSchema,
  })
  .strict()
  .openapi("ApiKeyRequest");

export const ApiKeySchema = z
  .object({
    id: z.string().openapi({ example: "key_3kTq9vWm2xYb" }),
    name: z.string(),
    scope: ApiKeyScopeSchema,
    created_at: z.string().openapi({ format: "date-time" }),
    last_used_at: z
      .string()
      .nullable()
      .openapi({ format: "date-time", description: "Updated at most once a minute." }),
    revoked_at: z.string().nullable().openapi({ format: "date-time" }),
  })
  .openapi("ApiKey");

export const CreatedApiKeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    scope: ApiKeyScopeSchema,
    key: z
      .string()
      .openapi({ description: "Shown only in this response; send it as `Authorization: Bearer <key>`." }),
    created_at: z.string().openapi({ format: "date-time" }),
  })
  .openapi("CreatedApiKey");

const ApiKeyIdParamSchema = z.object({
  id: z
    .string()
    .regex(/^key_[A-Za-z0-9_-]{1,64}$/, "must be a key id, `key_…`")
    .openapi({ param: { name: "id", in: "path" }, example: "key_3kTq9vWm2xYb" }),
});

const errors = {
  ...commonErrors,
  401: { description: "Missing or wrong key", content: json(ErrorSchema) },
  403: { description: "access_denied: only admin keys manage API keys", content: json(ErrorSchema) },
} as const;

const createKeyRoute = createRoute({
  method: "post",
  path: "/v1/api-keys",
  tags: ["api-keys"],
  summary: "Create a named API key (the key is shown only in this response)",
  security,
  request: { body: { required: true, content: json(ApiKeyRequestSchema) } },
  responses: {
    201: { description: "Created", content: json(CreatedApiKeySchema) },
    ...bodyErrors("16 KiB"),
    ...errors,
  },
});

const listKeysRoute = createRoute({
  method: "get",
  path: "/v1/api-keys",
  tags: ["api-keys"],
  summary: "List API keys, revoked ones included (never the keys themselves)",
  security,
  responses: {
    200: { description: "Every key", content: json(z.object({ api_keys: z.array(ApiKeySchema) })) },
    ...errors,
  },
});

const revokeKeyRoute = createRoute({
  method: "delete",
  path: "/v1/api-keys/{id}",
  tags: ["api-keys"],
  summary: "Revoke an API key: refused at once on every instance; revoking again changes nothing",
  security,
  request: { params: ApiKeyIdParamSchema },
  responses: {
    204: { description: "Revoked (or already revoked)" },
    404: { description: "No such key", content: json(ErrorSchema) },
    ...errors,
  },
});

/**
 * A key as the API shows it.
 *
 * @example
 * c.json({ api_keys: (await ctx.store.listApiKeys()).map(apiKeyToJson) });
 */
export function apiKeyToJson(key: ApiKeyRecord): z.infer<typeof ApiKeySchema> {
  return {
    id: key.id,
    name: key.name,
    scope: key.scope,
    created_at: key.createdAt.toISOString(),
    last_used_at: key.lastUsedAt?.toISOString() ?? null,
    revoked_at: key.revokedAt?.toISOString() ?? null,
  };
}

/**
 * Creates a key; the returned `key` is the only time it is ever seen.
 *
 * @example
 * const { key } = await createApiKey(ctx, { name: "workers", scope: "proxy" });
 */
export async function createApiKey(
  ctx: ServiceContext,
  input: z.infer<typeof ApiKeyRequestSchema>,
): Promise<z.infer<typeof CreatedApiKeySchema>> {
  const key = generateApiKey();
  const record = await ctx.store.createApiKey({
    id: newApiKeyId(),
    name: input.name,
    scope: input.scope,
    keyHash: hashApiKey(key),
    now: ctx.now(),
  });
  ctx.logger.info({ event: "api_key.created", key_id: record.id, scope: record.scope }, "API key created");
  return {
    id: record.id,
    name: record.name,
    scope: record.scope,
    key,
    created_at: record.createdAt.toISOString(),
  };
}

/**
 * Revokes a key; throws `not_found` for an unknown id.
 *
 * @example
 * await revokeApiKey(ctx, "key_3kTq9vWm2xYb");
 */
export async function revokeApiKey(ctx: ServiceContext, id: string): Promise<ApiKeyRecord> {
  const revoked = await ctx.store.revokeApiKey(id, ctx.now());
  if (!revoked) {
    throw new AirlockError("not_found", `No API key with id "${id}".`, {
      hint: "List keys with GET /v1/api-keys (or `airlock keys list`).",
    });
  }
  ctx.logger.info({ event: "api_key.revoked", key_id: id }, "API key revoked");
  return revoked;
}

/**
 * The `/v1/api-keys` routes.
 *
 * @example
 * app.route("/", apiKeyRoutes(ctx));
 */
export function apiKeyRoutes(ctx: ServiceContext): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  app.use(
    "/v1/api-keys",
    bodyLimit({
      maxSize: 16 * 1024,
      onError: () => {
        throw new AirlockError("payload_too_large", "The request body is larger than 16 KiB.", {
          hint: "Send only name and scope.",
        });
      },
    }),
  );
  app.openapi(createKeyRoute, async (c) => {
    const created = await createApiKey(ctx, c.req.valid("json"));
    c.header("Cache-Control", "no-store");
    return c.json(created, 201);
  });
  app.openapi(listKeysRoute, async (c) => {
    const keys = await ctx.store.listApiKeys();
    return c.json({ api_keys: keys.map(apiKeyToJson) }, 200);
  });
  app.openapi(revokeKeyRoute, async (c) => {
    await revokeApiKey(ctx, c.req.valid("param").id);
    return c.body(null, 204);
  });
  return app;
}
