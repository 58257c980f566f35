/**
 * Several Airtable OAuth integrations in one deployment (issue 12), end to end over real HTTP on
 * SQLite and (with AIRLOCK_TEST_DATABASE_URL) PostgreSQL: the demo emulator hosts the default
 * integration and one from AIRLOCK_INTEGRATIONS_FILE; the same identifier connected on both is two
 * connections with their own grants, tokens, proxy and lifecycle; routes under /v1 act on
 * `default` as before; a `proxy` key reaches another integration's proxy and nothing else.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AirlockClient } from "../src/client/index.js";
import type { ErrorBody } from "../src/server/http-errors.js";
import {
  connect,
  SECRET_KEY,
  serviceStores,
  startTestService,
  type TestService,
} from "./security/harness.js";

const READONLY_SCOPES = "data.records:read schema.bases:read";

describe.each(serviceStores("service-integrations"))("several integrations (%s)", (store) => {
  let t: TestService;
  const json = async (path: string, init?: RequestInit) => {
    const response = await t.api(path, init);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    json(path, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
  const grantOf = async (token: string) => {
    const response = await fetch(`${t.service.emulator?.url}/__emulator/grants/find`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token }),
    });
    return (await response.json()) as { client_id: string; scopes: string[] };
  };

  beforeAll(async () => {
    const file = join(process.env.TMPDIR ?? "/tmp", `airlock-integrations-${process.pid}-${store}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        integrations: [
          { id: "readonly", name: "Read-only", client_id: "airlock-readonly", scopes: READONLY_SCOPES },
        ],
      }),
    );
    t = await startTestService({
      store,
      env: { AIRLOCK_INTEGRATIONS_FILE: file },
      start: { keepAlive: false },
    });
    await connect(t, { identifier: "u1" });
    await connect(t, { identifier: "u1", integration: "readonly" });
  });

  afterAll(async () => {
    await t?.close();
  });

  it("lists the integrations, default first", async () => {
    const { status, body } = await json("/v1/integrations");
    expect(status).toBe(200);
    expect(body.integrations).toEqual([
      expect.objectContaining({
        id: "default",
        default: true,
        source: "environment",
        routes: "/v1/integrations/default",
      }),
      {
        id: "readonly",
        name: "Read-only",
        client_id: "airlock-readonly",
        scopes: READONLY_SCOPES.split(" "),
        default: false,
        source: "file",
        routes: "/v1/integrations/readonly",
      },
    ]);
  });

  it("keeps the same identifier on two integrations as two connections, each granted to its own client", async () => {
    const mine = await json("/v1/connections/u1");
    const theirs = await json("/v1/integrations/readonly/connections/u1");
    expect(mine.body).toMatchObject({ integration: "default", identifier: "u1", status: "active" });
    expect(theirs.body).toMatchObject({ integration: "readonly", identifier: "u1", status: "active" });
    expect(theirs.body.scopes).toEqual(READONLY_SCOPES.split(" "));
    expect((await json("/v1/integrations/default/connections/u1")).body).toEqual(mine.body);

    const a = await post("/v1/connections/u1/access-token", {});
    const b = await post("/v1/integrations/readonly/connections/u1/access-token", {});
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(a.body.access_token).not.toEqual(b.body.access_token);
    expect((await grantOf(String(a.body.access_token))).client_id).toBe("airlock-demo");
    expect(await grantOf(String(b.body.access_token))).toMatchObject({ client_id: "airlock-readonly" });

    const list = (await json("/v1/integrations/readonly/connections")).body.connections as Array<{
      integration: string;
    }>;
    expect(list.map((c) => c.integration)).toEqual(["readonly"]);
  });

  it("proxies with the integration's own token", async () => {
    const proxied = await t.api("/v1/integrations/readonly/proxy/u1/v0/meta/whoami");
    expect(proxied.status).toBe(200);
    expect(((await proxied.json()) as { scopes: string[] }).scopes).toEqual(READONLY_SCOPES.split(" "));
    const unknown = await t.api("/v1/integrations/readonly/proxy/nobody/v0/meta/whoami");
    expect(unknown.status).toBe(404);
  });

  it("refuses a scope the integration does not have, naming the integration", async () => {
    const refused = await post("/v1/connect-sessions", {
      identifier: "u2",
      integration: "readonly",
      scopes: ["data.records:write"],
    });
    expect(refused.status).toBe(400);
    const { error } = refused.body as unknown as ErrorBody;
    expect(error.message).toContain('"readonly"');
    expect(error.hint).toContain("AIRLOCK_INTEGRATIONS_FILE");
    // The prefixed route is the same as naming it in the body.
    expect((await post("/v1/integrations/readonly/connect-sessions", { identifier: "u2" })).status).toBe(201);
  });

  it("answers an unknown integration with 404 naming the configured ones", async () => {
    for (const response of [
      await json("/v1/integrations/nope/connections"),
      await post("/v1/connect-sessions", { identifier: "u3", integration: "nope" }),
    ]) {
      expect(response.status).toBe(404);
      const { error } = response.body as unknown as ErrorBody;
      expect(error.message).toContain('"nope"');
      expect(error.hint).toContain("default, readonly");
    }
  });

  it("lets a proxy key reach every integration's proxy and access tokens, and nothing else", async () => {
    const created = await post("/v1/api-keys", { name: "proxy for integrations", scope: "proxy" });
    expect(created.status).toBe(201);
    const key = { authorization: `Bearer ${String(created.body.key)}` };
    expect((await t.api("/v1/integrations/readonly/proxy/u1/v0/meta/whoami", { headers: key })).status).toBe(
      200,
    );
    expect((await post("/v1/integrations/readonly/connections/u1/access-token", {}, key)).status).toBe(200);
    expect((await post("/v1/integrations/readonly/connect-sessions", { identifier: "u4" }, key)).status).toBe(
      403,
    );
    expect((await json("/v1/integrations/readonly/connections", { headers: key })).status).toBe(403);
    expect((await json("/v1/integrations", { headers: key })).status).toBe(403);
  });

  it("works through the SDK: listIntegrations, and forIntegration for one integration's connections", async () => {
    const airlock = new AirlockClient({ baseUrl: t.url, secretKey: SECRET_KEY });
    expect((await airlock.listIntegrations()).map((i) => [i.id, i.default])).toEqual([
      ["default", true],
      ["readonly", false],
    ]);
    const readonly = airlock.forIntegration("readonly");
    expect(await readonly.getConnection("u1")).toMatchObject({ integration: "readonly", identifier: "u1" });
    expect(await airlock.getConnection("u1")).toMatchObject({ integration: "default" });
    const whoami = await readonly.request("u1", "/v0/meta/whoami");
    expect(((await whoami.json()) as { scopes: string[] }).scopes).toEqual(READONLY_SCOPES.split(" "));
    const session = await readonly.createConnectSession({ identifier: "sdk-user" });
    expect(session.url).toContain("/connect/");
    expect(() => airlock.forIntegration("Not An Id")).toThrow(/integration/);
  });

  it("disconnects one integration's connection and leaves the other's", async () => {
    expect((await t.api("/v1/integrations/readonly/connections/u1", { method: "DELETE" })).status).toBe(204);
    expect((await json("/v1/integrations/readonly/connections/u1")).body.status).toBe("revoked");
    expect((await json("/v1/connections/u1")).body.status).toBe("active");
    expect((await t.api("/v1/proxy/u1/v0/meta/whoami")).status).toBe(200);
  });
});
