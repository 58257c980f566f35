/**
 * `GET /openapi.json` stays in step with the router: every route the app answers is in the
 * document and every documented operation is a route; API routes carry real schemas (not the
 * generic page entry), and `/v1` operations declare the bearer secret key.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listAppRoutes, PROXY_METHODS } from "../src/server/openapi.js";
import { startTestService, type TestService } from "./security/harness.js";

type Operation = { tags?: string[]; security?: unknown[]; requestBody?: unknown; parameters?: unknown[] };
type Doc = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components?: Record<string, unknown>;
};

describe("OpenAPI document", () => {
  let t: TestService;
  let doc: Doc;

  beforeAll(async () => {
    t = await startTestService();
    const res = await fetch(`${t.url}/openapi.json`);
    expect(res.status).toBe(200);
    doc = (await res.json()) as Doc;
  });
  afterAll(async () => {
    await t?.close();
  });

  it("is OpenAPI 3.1 with the bearer scheme", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(JSON.stringify(doc.components)).toContain('"scheme":"bearer"');
  });

  it("documents exactly the routes the app answers", () => {
    const routes = new Set<string>();
    for (const route of listAppRoutes(t.service.app)) {
      const methods = route.method === "all" ? PROXY_METHODS : [route.method];
      for (const method of methods) routes.add(`${method} ${route.path}`);
    }
    const documented = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of Object.keys(item)) documented.add(`${method} ${path}`);
    }
    expect([...documented].sort()).toEqual([...routes].sort());
  });

  it("lists every route DESIGN.md names, with schemas", () => {
    const expected = [
      "post /v1/connect-sessions",
      "get /connect/{token}",
      "post /connect/{token}",
      "get /oauth/callback",
      "get /v1/connections",
      "get /v1/connections/{identifier}",
      "post /v1/connections/{identifier}/access-token",
      "delete /v1/connections/{identifier}",
      "get /v1/connections/{identifier}/events",
      "get /v1/proxy/{identifier}/{airtable_path}",
      "post /v1/proxy/{identifier}/{airtable_path}",
      "get /healthz",
      "get /metrics",
      "get /openapi.json",
      "get /",
    ];
    for (const entry of expected) {
      const [method, path] = entry.split(" ") as [string, string];
      expect(doc.paths[path]?.[method], entry).toBeDefined();
    }
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const isService = /^\/(v1\/|connect\/|oauth\/|healthz$|metrics$|openapi\.json$)/.test(path);
        if (isService) expect(op.tags, `${method} ${path}`).not.toContain("dashboard");
        if (path.startsWith("/v1/")) expect(op.security, `${method} ${path}`).toEqual([{ secretKey: [] }]);
      }
    }
    const create = doc.paths["/v1/connect-sessions"]?.post;
    expect(JSON.stringify(create?.requestBody)).toContain("ConnectSessionRequest");
  });
});
