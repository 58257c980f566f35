/**
 * Integrations created through the API (issue 12), end to end over real HTTP on SQLite and (with
 * AIRLOCK_TEST_DATABASE_URL) PostgreSQL: two `airlock serve` instances in this process share one
 * store, pointed at a real emulator that hosts the AIRTABLE_* client and a second one.
 * `POST /v1/integrations` on one instance makes the second client an integration that the other
 * instance serves at once; its secret is stored encrypted; it cannot be deleted while connected;
 * bad input gets the usual error shape; demo mode refuses with what to do instead.
 */
import BetterSqlite3 from "better-sqlite3";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AirlockClient } from "../src/client/index.js";
import { type RunningEmulator, startEmulator } from "../src/emulator/index.js";
import type { ErrorBody } from "../src/server/http-errors.js";
import { generateKeyringValue } from "../src/store/crypto.js";
import {
  connect,
  SECRET_KEY,
  serviceStores,
  startTestService,
  type TestService,
} from "./security/harness.js";
import { freePort } from "./support/ports.js";
import { requireTestDatabaseUrl } from "./support/postgres.js";
import { until } from "./support/until.js";

const SCOPES = ["data.records:read", "schema.bases:read"];
const MADE = {
  id: "made",
  name: "Made by API",
  client_id: "api-client",
  client_secret: "api-secret-7f3a9c",
  scopes: SCOPES.join(" "),
};

/** The stored client secrets as the database holds them. */
async function storedSecrets(t: TestService): Promise<string[]> {
  if (t.pgSchema === null) {
    const raw = new BetterSqlite3(t.databaseUrl, { readonly: true });
    try {
      return (
        raw.prepare("SELECT client_secret_enc FROM integrations").all() as Array<{
          client_secret_enc: string;
        }>
      ).map((r) => r.client_secret_enc);
    } finally {
      raw.close();
    }
  }
  const client = new pg.Client({ connectionString: requireTestDatabaseUrl() });
  await client.connect();
  try {
    const result = await client.query<{ client_secret_enc: string }>(
      `SELECT client_secret_enc FROM "${t.pgSchema}".integrations`,
    );
    return result.rows.map((r) => r.client_secret_enc);
  } finally {
    await client.end();
  }
}

describe.each(serviceStores("service-integrations-api"))(
  "integrations created through the API (%s)",
  (store) => {
    let emulator: RunningEmulator;
    let first: TestService;
    let second: TestService;

    const send = async (t: TestService, method: string, path: string, body?: unknown) => {
      const response = await t.api(path, {
        method,
        ...(body === undefined
          ? {}
          : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: (text ? JSON.parse(text) : null) as Record<string, unknown> };
    };

    beforeAll(async () => {
      const [port1, port2] = [await freePort(), await freePort()];
      const callback = `http://localhost:${port1}/oauth/callback`;
      emulator = await startEmulator({
        clientId: "main-client",
        clientSecret: "main-secret",
        redirectUris: [callback],
        autoApprove: true,
        integrations: [
          { clientId: MADE.client_id, clientSecret: MADE.client_secret, redirectUris: [callback] },
        ],
      });
      const env = {
        AIRTABLE_CLIENT_ID: "main-client",
        AIRTABLE_CLIENT_SECRET: "main-secret",
        AIRTABLE_OAUTH_URL: emulator.url,
        AIRTABLE_API_URL: emulator.url,
        AIRLOCK_ENCRYPTION_KEYS: generateKeyringValue("shared"),
      };
      first = await startTestService({
        store,
        env: { ...env, PORT: String(port1) },
        start: { keepAlive: false },
      });
      second = await startTestService({
        store,
        env: {
          ...env,
          PORT: String(port2),
          AIRLOCK_PUBLIC_URL: `http://localhost:${port2}`,
          DATABASE_URL: first.databaseUrl,
        },
        start: { keepAlive: false },
      });
    });

    afterAll(async () => {
      await second?.close();
      await first?.close();
      await emulator?.close();
    });

    it("creates one: listed with its source, the secret never returned and stored encrypted", async () => {
      const created = await send(first, "POST", "/v1/integrations", MADE);
      expect(created.status).toBe(201);
      expect(created.body).toEqual({
        id: "made",
        name: "Made by API",
        client_id: "api-client",
        scopes: SCOPES,
        default: false,
        source: "api",
        routes: "/v1/integrations/made",
      });
      const listed = await send(second, "GET", "/v1/integrations");
      expect(
        (listed.body.integrations as Array<{ id: string; source: string }>).map((i) => [i.id, i.source]),
      ).toEqual([
        ["default", "environment"],
        ["made", "api"],
      ]);
      expect(JSON.stringify(listed.body)).not.toContain(MADE.client_secret);
      const [row] = await storedSecrets(first);
      expect(row).toBeTruthy();
      expect(row).not.toContain(MADE.client_secret);
    });

    it("refuses bad input with the problem and the fix, and taken ids or client ids", async () => {
      const cases: Array<[unknown, number, string]> = [
        [{ ...MADE, id: "Not Valid" }, 400, "id"],
        [{ ...MADE, id: "other", client_id: "c2", scopes: "data.record:read" }, 400, "scopes"],
        [{ ...MADE, id: "other", client_id: "c2", extra: true }, 400, "extra"],
        [{ ...MADE, id: "default", client_id: "c3" }, 409, '"default" already exists'],
        [{ ...MADE, client_id: "c4" }, 409, '"made" already exists'],
        [{ ...MADE, id: "again" }, 409, "client_id"],
        [{ ...MADE, id: "main", client_id: "main-client" }, 409, "client_id"],
      ];
      for (const [body, status, text] of cases) {
        const answer = await send(first, "POST", "/v1/integrations", body);
        expect(answer.status, JSON.stringify(body)).toBe(status);
        const { error } = answer.body as unknown as ErrorBody;
        expect(`${error.message} ${JSON.stringify(error)}`).toContain(text);
        expect(error.hint.length).toBeGreaterThan(10);
      }
      const big = await send(first, "POST", "/v1/integrations", { ...MADE, name: "x".repeat(5000) });
      expect(big.status).toBe(413);
    });

    it("connects through it on one instance and proxies with its own client's token on the other", async () => {
      await connect(first, { identifier: "u1", integration: "made" });
      const proxied = await second.api("/v1/integrations/made/proxy/u1/v0/meta/whoami");
      expect(proxied.status).toBe(200);
      expect(((await proxied.json()) as { scopes: string[] }).scopes).toEqual(SCOPES);
      const token = await send(second, "POST", "/v1/integrations/made/connections/u1/access-token", {});
      const grant = await fetch(`${emulator.url}/__emulator/grants/find`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token: token.body.access_token }),
      });
      expect(((await grant.json()) as { client_id: string }).client_id).toBe("api-client");
      // The same identifier on the default integration is another connection (none yet).
      expect((await first.api("/v1/connections/u1")).status).toBe(404);
    });

    it("is not deleted while connected; once disconnected it goes, on every instance", async () => {
      const refused = await send(first, "DELETE", "/v1/integrations/made");
      expect(refused.status).toBe(409);
      expect((refused.body as unknown as ErrorBody).error.hint).toContain(
        "/v1/integrations/made/connections",
      );
      expect((await send(first, "DELETE", "/v1/integrations/default")).status).toBe(409);
      expect((await send(second, "DELETE", "/v1/integrations/made/connections/u1")).status).toBe(204);
      expect((await send(second, "DELETE", "/v1/integrations/made")).status).toBe(204);
      expect((await send(second, "GET", "/v1/integrations/made/connections")).status).toBe(404);
      // The other instance reads the table every few seconds.
      await until(
        async () => (await first.api("/v1/integrations/made/connections")).status === 404,
        "the other instance to stop serving the deleted integration",
      );
      expect((await send(first, "DELETE", "/v1/integrations/made")).status).toBe(404);
    });

    it("works through the SDK", async () => {
      const airlock = new AirlockClient({ baseUrl: first.url, secretKey: SECRET_KEY });
      const made = await airlock.createIntegration({
        id: "sdk-made",
        clientId: MADE.client_id,
        clientSecret: MADE.client_secret,
        scopes: SCOPES,
      });
      expect(made).toMatchObject({ id: "sdk-made", source: "api", default: false });
      expect((await airlock.listIntegrations()).map((i) => i.id)).toContain("sdk-made");
      await airlock.deleteIntegration("sdk-made");
      await expect(airlock.deleteIntegration("sdk-made")).rejects.toMatchObject({ code: "not_found" });
    });
  },
);

describe("integrations through the API in demo mode", () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService({ start: { keepAlive: false } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("refuses, saying to use AIRLOCK_INTEGRATIONS_FILE", async () => {
    const answer = await t.api("/v1/integrations", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(MADE),
    });
    expect(answer.status).toBe(409);
    const { error } = (await answer.json()) as ErrorBody;
    expect(error.message).toContain("demo mode");
    expect(error.hint).toContain("AIRLOCK_INTEGRATIONS_FILE");
  });
});
