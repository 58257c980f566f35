/**
 * `GET /openapi.json`: the OpenAPI 3.1 document of every route. API routes are defined with
 * @hono/zod-openapi (schemas written once, used for validation and for this document); the proxy is
 * added by hand (its path is a wildcard); HTML pages mounted from elsewhere (the dashboard) are
 * listed from the router itself so no route can exist undocumented.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { ServiceContext } from "./context.js";
import type { AppEnv } from "./request-log.js";

/** The methods `ANY /v1/proxy/…` is documented with. */
export const PROXY_METHODS = ["get", "post", "put", "patch", "delete"] as const;
const PROXY_HONO_PATH = "/v1/proxy/:identifier/*";
const PROXY_DOC_PATH = "/v1/proxy/{identifier}/{airtable_path}";
/** Every connection route again, for one integration (integration-routes.ts). */
const INTEGRATION_DOC_PATH = "/v1/integrations/{integration}/{path}";

export interface AppRoute {
  /** Lower-case HTTP method, or "all". */
  method: string;
  /** OpenAPI-style path (`{param}`). */
  path: string;
}

/**
 * Hono path → OpenAPI path: `:id` → `{id}`, a trailing `*` → `{path}` (the proxy's → `{airtable_path}`).
 */
export function toOpenApiPath(honoPath: string): string {
  if (honoPath === PROXY_HONO_PATH) return PROXY_DOC_PATH;
  return honoPath.replace(/:([A-Za-z0-9_]+)(\{[^}]*\})?/g, "{$1}").replace(/\/\*$/, "/{path}");
}

/**
 * The app's endpoints as the router sees them: middleware (handlers taking `next`) is left out.
 */
export function listAppRoutes(app: OpenAPIHono<AppEnv>): AppRoute[] {
  const seen = new Map<string, AppRoute>();
  for (const route of app.routes) {
    // Middleware is `(c, next) => …`; an endpoint's handler does not take `next`.
    if (route.handler.length >= 2) continue;
    const entry = { method: route.method.toLowerCase(), path: toOpenApiPath(route.path) };
    seen.set(`${entry.method} ${entry.path}`, entry);
  }
  return [...seen.values()];
}

type Operation = Record<string, unknown>;
type PathItem = Record<string, Operation>;

function proxyOperation(method: string): Operation {
  return {
    tags: ["proxy"],
    summary: `${method.toUpperCase()} an Airtable Web API path on the connection's behalf`,
    description:
      "Forwards to AIRTABLE_API_URL + /v0/… with the connection's fresh access token. Only /v0/ paths; `..`, `//host`, absolute URLs and host overrides are refused before any upstream call. Airtable's status, headers (minus hop-by-hop and Set-Cookie) and body are streamed back; a 401 triggers one refresh and one retry; 429 and Retry-After pass through.",
    security: [{ secretKey: [] }],
    parameters: [
      { name: "identifier", in: "path", required: true, schema: { type: "string" } },
      {
        name: "airtable_path",
        in: "path",
        required: true,
        description: "An Airtable Web API path starting with v0/, e.g. v0/meta/whoami (may contain slashes).",
        schema: { type: "string" },
      },
    ],
    ...(method === "get" || method === "delete"
      ? {}
      : { requestBody: { required: false, content: { "application/json": { schema: {} } } } }),
    responses: {
      "2XX": { description: "Airtable's answer, streamed" },
      "400": { description: "invalid_input: the path is not an Airtable /v0/ path", content: errorContent() },
      "401": { description: "Missing or wrong secret key", content: errorContent() },
      "404": { description: "not_found: no such connection", content: errorContent() },
      "409": {
        description: "reauth_required: the user must reconnect (also for a disconnected, revoked connection)",
        content: errorContent(),
      },
      "413": { description: "payload_too_large", content: errorContent() },
      "429": {
        description:
          "Airtable's rate limit, passed through with Retry-After (Airtable's body); or rate_limited: too many wrong secret keys from this address (Airlock's error body)",
      },
      "504": { description: "timeout: Airtable did not answer in time", content: errorContent() },
    },
  };
}

function integrationOperation(method: string): Operation {
  return {
    tags: ["integrations"],
    summary: `${method.toUpperCase()} a connection route of one integration`,
    description:
      "The routes of /v1/connect-sessions, /v1/connections… and /v1/proxy/…, acting on this integration's connections instead of the default's: `path` is the part after /v1/, e.g. `connections/user_1` or `proxy/user_1/v0/meta/whoami`. Requests, answers and key scopes are those of the route under /v1.",
    security: [{ secretKey: [] }],
    parameters: [
      { name: "integration", in: "path", required: true, schema: { type: "string" }, example: "readonly" },
      { name: "path", in: "path", required: true, schema: { type: "string" }, example: "connections/user_1" },
    ],
    ...(method === "get" || method === "delete"
      ? {}
      : { requestBody: { required: false, content: { "application/json": { schema: {} } } } }),
    responses: {
      "2XX": { description: "The answer of the route under /v1" },
      "401": { description: "Missing or wrong secret key", content: errorContent() },
      "403": {
        description: "access_denied: the key's scope does not cover the route",
        content: errorContent(),
      },
      "404": {
        description: "not_found: no such integration (the hint lists them), route or connection",
        content: errorContent(),
      },
      "415": { description: "unsupported_media_type: a body that is not JSON", content: errorContent() },
      "429": { description: "rate_limited: too many wrong keys from this address", content: errorContent() },
    },
  };
}

function errorContent() {
  return { "application/json": { schema: { $ref: "#/components/schemas/Error" } } };
}

function pageOperation(method: string, path: string): Operation {
  return {
    tags: ["dashboard"],
    summary: `Dashboard: ${method.toUpperCase()} ${path}`,
    ...(path.includes("{")
      ? {
          parameters: [...path.matchAll(/\{([^}]+)\}/g)].map((m) => ({
            name: m[1],
            in: "path",
            required: true,
            schema: { type: "string" },
          })),
        }
      : {}),
    responses: {
      "200": { description: "An HTML page (or a redirect)", content: { "text/html": {} } },
      ...(method === "post" && path === "/login"
        ? {
            "429": {
              description:
                "Too many failed sign-ins from this address (per instance): the sign-in page, with Retry-After",
              content: { "text/html": {} },
            },
          }
        : {}),
    },
  };
}

/**
 * The complete document: registry (API), proxy, openapi.json itself, and the pages.
 */
export function buildOpenApiDocument(app: OpenAPIHono<AppEnv>, ctx: ServiceContext): Record<string, unknown> {
  const document = app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: {
      title: "Airlock",
      version: "1",
      description:
        "Airtable OAuth connections as a service: connect links, fresh tokens, and a proxy. `/v1/*` needs `Authorization: Bearer $AIRLOCK_SECRET_KEY`. Errors are `{error: {code, message, hint}}`.",
    },
    servers: [{ url: ctx.config.publicUrl }],
  }) as unknown as { paths?: Record<string, PathItem> } & Record<string, unknown>;
  const paths: Record<string, PathItem> = { ...(document.paths ?? {}) };
  paths[PROXY_DOC_PATH] = Object.fromEntries(PROXY_METHODS.map((m) => [m, proxyOperation(m)]));
  paths[INTEGRATION_DOC_PATH] = Object.fromEntries(PROXY_METHODS.map((m) => [m, integrationOperation(m)]));
  paths["/openapi.json"] = {
    get: {
      tags: ["operations"],
      summary: "This document",
      responses: { "200": { description: "OpenAPI 3.1", content: { "application/json": {} } } },
    },
  };
  for (const route of listAppRoutes(app)) {
    const methods = route.method === "all" ? [...PROXY_METHODS] : [route.method];
    for (const method of methods) {
      const item = paths[route.path] ?? {};
      item[method] ??= pageOperation(method, route.path);
      paths[route.path] = item;
    }
  }
  return { ...document, paths };
}
