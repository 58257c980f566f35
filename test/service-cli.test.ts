/**
 * `airlock serve` as a real process (`node dist/cli/main.js`; run `npm run build` first): demo mode
 * banner with the dashboard URL and a generated secret key kept in a 0600 file, a full connect flow
 * through the emulator's real consent form, the proxy, graceful SIGTERM, a restart that keeps the
 * key and the data, `rotate-keys`, and fail-fast configuration errors. The process's JSON log lines
 * must not contain the code, state, connect token, access token or secret key.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Browser, location, useConnectLink } from "./security/harness.js";

const MAIN = join(import.meta.dirname, "..", "dist", "cli", "main.js");
/** Every child runs here, so nothing it might create lands in the repository. */
const dir = mkdtempSync(join(tmpdir(), "airlock-cli-"));

interface Running {
  child: ChildProcess;
  stderr: () => string;
  stdout: () => string;
  exited: Promise<number | null>;
  url: string;
  secretKey: string;
}

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(AIRTABLE_|AIRLOCK_|PORT$|DATABASE_URL$)/.test(k)) env[k] = v;
  }
  return { ...env, AIRLOCK_LOG_LEVEL: "debug", ...extra };
}

function run(
  args: string[],
  env: Record<string, string>,
): { child: ChildProcess; stderr: () => string; stdout: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [MAIN, ...args], {
    cwd: dir,
    env: cleanEnv(env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  let stdout = "";
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString("utf8");
  });
  child.stdout?.on("data", (c: Buffer) => {
    stdout += c.toString("utf8");
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, stderr: () => stderr, stdout: () => stdout, exited };
}

async function serve(env: Record<string, string>): Promise<Running> {
  const proc = run(["serve", "--port", "0"], env);
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const text = proc.stderr();
    const url = /Dashboard:\s+(http:\/\/\S+?)\/\s/.exec(text)?.[1];
    const key = /Secret key:\s+(sk_demo_\S+)/.exec(text)?.[1];
    if (url && key) return { ...proc, url, secretKey: key };
    if (proc.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  proc.child.kill("SIGKILL");
  throw new Error(`airlock serve did not start:\n${proc.stderr()}`);
}

describe("airlock serve (real process)", () => {
  const db = join(dir, "airlock.db");
  let service: Running;
  const secrets: string[] = [];

  beforeAll(async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` before this suite`);
    service = await serve({ DATABASE_URL: db });
  });
  afterAll(async () => {
    if (service?.child.exitCode === null) service.child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  it("prints the demo banner, the dashboard URL and a kept 0600 secret key", () => {
    const text = service.stderr();
    expect(text).toContain("DEMO MODE");
    expect(text).toMatch(/built-in emulator at http:\/\/127\.0\.0\.1:\d+/);
    expect(text).toContain(`${service.url}/oauth/callback`);
    const keyFile = join(dir, ".airlock", "demo-keys.json");
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(keyFile, "utf8")).toContain(service.secretKey);
    expect(readFileSync(db).includes(Buffer.from(service.secretKey))).toBe(false);
    secrets.push(service.secretKey);
  });

  it("connects a user through the real consent page and proxies whoami", async () => {
    const auth = { authorization: `Bearer ${service.secretKey}`, "content-type": "application/json" };
    const created = await fetch(`${service.url}/v1/connect-sessions`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ identifier: "cli_user" }),
    });
    expect(created.status).toBe(201);
    const session = (await created.json()) as { token: string; url: string };
    secrets.push(session.token);

    const browser = new Browser();
    const authorizeUrl = location(await useConnectLink(browser, session.url));
    secrets.push(new URL(authorizeUrl).searchParams.get("state")!);
    const consent = await browser.get(authorizeUrl);
    expect(consent.status).toBe(200);
    const html = await consent.text();
    const requestId = /name="request_id" value="([^"]+)"/.exec(html)?.[1];
    expect(requestId).toBeDefined();
    const decision = await browser.get(new URL("/oauth2/v1/authorize/decision", authorizeUrl).href, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ request_id: requestId!, decision: "allow", all_bases: "1" }).toString(),
    });
    const callbackUrl = location(decision);
    secrets.push(new URL(callbackUrl).searchParams.get("code")!);
    const final = await browser.get(callbackUrl);
    expect(final.status).toBe(200);

    const token = await fetch(`${service.url}/v1/connections/cli_user/access-token`, {
      method: "POST",
      headers: auth,
    });
    const { access_token } = (await token.json()) as { access_token: string };
    secrets.push(access_token);
    const whoami = await fetch(`${service.url}/v1/proxy/cli_user/v0/meta/whoami`, { headers: auth });
    expect(whoami.status).toBe(200);
    expect(((await whoami.json()) as { id: string }).id).toMatch(/^usr/);
  });

  it("logs JSON lines with request ids and no secrets", async () => {
    const logLines = () =>
      service
        .stderr()
        .split("\n")
        .filter((l) => l.startsWith("{"));
    // The child's stderr arrives asynchronously; wait for the proxy request's line.
    for (let i = 0; i < 100 && !logLines().some((l) => l.includes("/v0/meta/whoami")); i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const lines = logLines();
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const proxied = entries.find((e) => e.path === "/v1/proxy/cli_user/v0/meta/whoami");
    expect(proxied).toMatchObject({ method: "GET", status: 200 });
    expect(typeof proxied?.requestId).toBe("string");
    expect(typeof proxied?.durationMs).toBe("number");
    const logText = lines.join("\n");
    for (const secret of secrets) expect(logText.includes(secret), "a secret reached the log").toBe(false);
  });

  it("shuts down gracefully on SIGTERM and restarts with the same key, data and demo grants", async () => {
    service.child.kill("SIGTERM");
    expect(await service.exited).toBe(0);
    expect(service.stderr()).toContain("Stopped.");

    const again = await serve({ DATABASE_URL: db });
    try {
      expect(again.secretKey).toBe(service.secretKey);
      const res = await fetch(`${again.url}/v1/connections/cli_user`, {
        headers: { authorization: `Bearer ${again.secretKey}` },
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { status: string }).status).toBe("active");
      // The demo emulator kept its grants in .airlock/demo-emulator.json: the old tokens still work.
      const whoami = await fetch(`${again.url}/v1/proxy/cli_user/v0/meta/whoami`, {
        headers: { authorization: `Bearer ${again.secretKey}` },
      });
      expect(whoami.status).toBe(200);
      expect(existsSync(join(dir, ".airlock", "demo-emulator.json"))).toBe(true);
    } finally {
      again.child.kill("SIGTERM");
      expect(await again.exited).toBe(0);
    }
  });

  it("rotate-keys re-encrypts under the kept demo key", async () => {
    const rotate = run(["rotate-keys", "--database-url", db], {});
    expect(await rotate.exited).toBe(0);
    expect(rotate.stdout()).toMatch(/Re-encrypted \d+ rows?/);
  });

  it("fails fast on bad configuration, naming the variable (exit 5)", async () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ PORT: "abc" }, /PORT must be a whole number/],
      [{ AIRLOCK_ENCRYPTION_KEYS: "garbage" }, /AIRLOCK_ENCRYPTION_KEYS/],
      [{ AIRTABLE_SCOPES: "webhook.manage" }, /webhook:manage/],
      [{ AIRTABLE_CLIENT_ID: "abc", DATABASE_URL: db }, /AIRLOCK_SECRET_KEY/],
      [{ AIRTABLE_REDIRECT_URI: "http://localhost:4000/cb" }, /oauth\/callback/],
    ];
    for (const [env, message] of cases) {
      const proc = run(["serve"], env);
      const code = await proc.exited;
      expect(code, JSON.stringify(env)).toBe(5);
      expect(proc.stderr(), JSON.stringify(env)).toMatch(message);
    }
    const usage = run(["serve", "--bogus"], {});
    expect(await usage.exited).toBe(2);
  });
});
