/**
 * After full flows (connect, token API, proxy, a forced refresh and a reconnect), neither the SQLite
 * files (db, -wal, -shm) nor any captured log line holds a plaintext access token, refresh token,
 * authorization code, PKCE verifier, state, connect token or the secret key. The log capture is
 * unredacted, so this proves secrets are never handed to the logger at all.
 */
import { existsSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashSecret } from "../../src/server/secrets.js";
import { describeWithPostgres } from "../support/postgres.js";
import {
  Browser,
  createSession,
  dumpPostgres,
  location,
  SECRET_KEY,
  startTestService,
  type TestService,
  useConnectLink,
} from "./harness.js";

describe("no plaintext secrets at rest or in logs (sqlite)", () => {
  let t: TestService;
  const secrets = new Map<string, string>();

  async function flow(identifier: string): Promise<void> {
    const session = await createSession(t, { identifier, return_url: `${t.url}/done` });
    secrets.set(`connect token (${identifier})`, session.token);
    const browser = new Browser();
    const authorizeUrl = location(await useConnectLink(browser, session.url));
    const state = new URL(authorizeUrl).searchParams.get("state")!;
    secrets.set(`state (${identifier})`, state);
    const pending = await t.service.ctx.store.getPendingAuthorization(hashSecret(state));
    secrets.set(`code_verifier (${identifier})`, pending!.codeVerifier);
    const callbackUrl = location(await browser.get(authorizeUrl));
    secrets.set(`code (${identifier})`, new URL(callbackUrl).searchParams.get("code")!);
    const final = await browser.get(callbackUrl);
    expect(final.status).toBe(302);
    const row = await t.service.ctx.store.getConnection(identifier);
    secrets.set(`access token (${identifier} v${row!.version})`, row!.accessToken);
    secrets.set(`refresh token (${identifier} v${row!.version})`, row!.refreshToken);
  }

  beforeAll(async () => {
    t = await startTestService();
    secrets.set("secret key", SECRET_KEY);
    await flow("rest_user");
    expect((await t.api("/v1/connections/rest_user/access-token", { method: "POST" })).status).toBe(200);
    expect((await t.api("/v1/proxy/rest_user/v0/meta/whoami")).status).toBe(200);
    // Rotate once so two generations of tokens exist.
    await t.service.ctx.tokens.getAccessToken("rest_user", { force: true });
    const rotated = await t.service.ctx.store.getConnection("rest_user");
    secrets.set("access token (rotated)", rotated!.accessToken);
    secrets.set("refresh token (rotated)", rotated!.refreshToken);
    expect((await t.api("/v1/proxy/rest_user/v0/meta/bases")).status).toBe(200);
    // Reconnect in place: a third generation, plus a second verifier/code/state.
    await flow("rest_user");
    await flow("second_user");
  });
  afterAll(async () => {
    await t?.close();
  });

  function assertAbsent(where: string, haystack: Buffer): void {
    for (const [label, value] of secrets) {
      expect(value.length, label).toBeGreaterThan(8);
      expect(haystack.includes(Buffer.from(value, "utf8")), `${label} found in ${where}`).toBe(false);
    }
  }

  it("keeps every secret out of the SQLite files while running", () => {
    const files = [t.sqlitePath!, `${t.sqlitePath}-wal`, `${t.sqlitePath}-shm`].filter((f) => existsSync(f));
    expect(files.length).toBeGreaterThanOrEqual(2);
    const all = Buffer.concat(files.map((f) => readFileSync(f)));
    // Sanity: we are reading the right database.
    expect(all.includes(Buffer.from("rest_user"))).toBe(true);
    for (const file of files) assertAbsent(file, readFileSync(file));
  });

  it("keeps every secret out of the logs", () => {
    const text = t.logs.text();
    expect(text).toContain("connection authorized");
    expect(text).toContain("/v1/proxy/rest_user/v0/meta/whoami");
    expect(text).toContain("/connect/[redacted]");
    expect(text).toMatch(/oauth\/callback\?code=%5Bredacted%5D&state=%5Bredacted%5D/);
    assertAbsent("logs", Buffer.from(text, "utf8"));
  });

  it("keeps every secret out of the files after shutdown (checkpointed)", async () => {
    await t.service.close();
    // The database file must exist (else nothing was checked); its WAL may be gone after the checkpoint.
    expect(existsSync(t.sqlitePath!), `${t.sqlitePath} exists`).toBe(true);
    const files = [t.sqlitePath!, `${t.sqlitePath}-wal`].filter((file) => existsSync(file));
    for (const file of files) assertAbsent(file, readFileSync(file));
    expect(readFileSync(t.sqlitePath!).length).toBeGreaterThan(0);
  });
});

describeWithPostgres("no plaintext secrets at rest (postgres)", () => {
  let t: TestService;

  beforeAll(async () => {
    t = await startTestService({ store: "postgres" });
  });
  afterAll(async () => {
    await t?.close();
  });

  it("stores no token, verifier, code, state or connect token in any table", async () => {
    const secrets: string[] = [SECRET_KEY];
    const session = await createSession(t, { identifier: "pg_user" });
    secrets.push(session.token);
    const browser = new Browser();
    const authorizeUrl = location(await useConnectLink(browser, session.url));
    const state = new URL(authorizeUrl).searchParams.get("state")!;
    secrets.push(state, (await t.service.ctx.store.getPendingAuthorization(hashSecret(state)))!.codeVerifier);
    const callbackUrl = location(await browser.get(authorizeUrl));
    secrets.push(new URL(callbackUrl).searchParams.get("code")!);
    expect((await browser.get(callbackUrl)).status).toBe(200);
    const first = await t.service.ctx.store.getConnection("pg_user");
    secrets.push(first!.accessToken, first!.refreshToken);
    await t.service.ctx.tokens.getAccessToken("pg_user", { force: true });
    const second = await t.service.ctx.store.getConnection("pg_user");
    secrets.push(second!.accessToken, second!.refreshToken);
    expect((await t.api("/v1/proxy/pg_user/v0/meta/whoami")).status).toBe(200);

    const dump = await dumpPostgres(t);
    expect(dump).toContain("pg_user");
    for (const secret of secrets) expect(dump.includes(secret)).toBe(false);
    const logs = t.logs.text();
    for (const secret of secrets) expect(logs.includes(secret)).toBe(false);
  });
});
