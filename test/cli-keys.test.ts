/**
 * `airlock keys create|list|revoke` as real processes against a running service (issue 12): the
 * key printed once, the list without keys, a revoke refused at once, and errors that name the fix.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SECRET_KEY, startTestService, type TestService } from "./security/harness.js";
import { runCli } from "./support/cli.js";

describe("airlock keys", () => {
  let t: TestService;
  let env: NodeJS.ProcessEnv;
  const keys = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
    runCli(["keys", ...args, "--url", t.url], { env: { ...env, ...extra } });

  beforeAll(async () => {
    t = await startTestService();
    env = { PATH: process.env.PATH ?? "", AIRLOCK_SECRET_KEY: SECRET_KEY };
  });
  afterAll(async () => {
    await t?.close();
  });

  it("creates a key (printed once on stdout), lists it, and revokes it", async () => {
    const created = await keys(["create", "--name", "billing workers", "--scope", "proxy"]);
    expect(created.code, created.stderr).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^ak_[A-Za-z0-9_-]{43}$/);
    const id = /Created API key (key_\S+)/.exec(created.stderr)?.[1] as string;
    expect(created.stderr).toContain("only time the key is shown");

    const listed = await keys(["list"]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/ID\s+NAME\s+SCOPE\s+CREATED\s+LAST USED\s+REVOKED/);
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).toContain("billing workers");
    expect(listed.stdout).not.toContain(key);

    const json = JSON.parse((await keys(["list", "--json"])).stdout) as {
      api_keys: Array<Record<string, unknown>>;
    };
    expect(json.api_keys.find((k) => k.id === id)).toMatchObject({ scope: "proxy", revoked_at: null });

    expect(
      (await t.api("/v1/proxy/nobody/v0/meta/whoami", { headers: { authorization: `Bearer ${key}` } }))
        .status,
    ).not.toBe(401);
    const revoked = await keys(["revoke", id]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stderr).toContain(`Revoked ${id}`);
    expect(
      (await t.api("/v1/proxy/nobody/v0/meta/whoami", { headers: { authorization: `Bearer ${key}` } }))
        .status,
    ).toBe(401);
    const after = JSON.parse((await keys(["list", "--json"])).stdout) as {
      api_keys: Array<Record<string, unknown>>;
    };
    expect(after.api_keys.find((k) => k.id === id)?.revoked_at).toEqual(expect.any(String));
  });

  it("accepts an admin API key with --key, and refuses a non-admin one with the fix", async () => {
    const admin = (await keys(["create", "--name", "ops", "--scope", "admin", "--json"])).stdout;
    const adminKey = (JSON.parse(admin) as { key: string }).key;
    const byAdmin = await keys(["create", "--name", "web", "--scope", "connect", "--key", adminKey], {
      AIRLOCK_SECRET_KEY: "",
    });
    expect(byAdmin.code, byAdmin.stderr).toBe(0);
    const connectKey = byAdmin.stdout.trim();
    const refused = await keys(["list", "--key", connectKey]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("scope `connect`");
    expect(refused.stderr).toContain("airlock keys create");
  });

  it("errors name the fix", async () => {
    const noKey = await keys(["list"], { AIRLOCK_SECRET_KEY: "" });
    expect(noKey.code).toBe(5);
    expect(noKey.stderr).toContain("Set AIRLOCK_SECRET_KEY");
    const wrong = await keys(["list", "--key", "not-the-key"]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain("--key");
    const badScope = await keys(["create", "--name", "x", "--scope", "root"]);
    expect(badScope.code).toBe(2);
    expect(badScope.stderr).toContain("--scope admin|connect|proxy");
    const noName = await keys(["create", "--scope", "admin"]);
    expect(noName.code).toBe(2);
    expect(noName.stderr).toContain("--name");
    const badName = await keys(["create", "--name", "a\u0007b", "--scope", "admin"]);
    expect(badName.code).toBe(2);
    const unknown = await keys(["revoke", "key_nope"]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain("airlock keys list");
    const down = await runCli(["keys", "list", "--url", "http://127.0.0.1:9"], { env });
    expect(down.code).toBe(4);
    expect(down.stderr).toContain("airlock serve");
    const help = await runCli(["keys", "--help"], { env });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("airlock keys create --name N --scope S");
  });
});
