/**
 * The dashboard over real HTTP against the real service (in-process `startService` in demo mode:
 * SQLite in a temp folder, and PostgreSQL when AIRLOCK_TEST_DATABASE_URL is set; the emulator with its real consent form, which the "end user" submits
 * over HTTP here; the browser suite under test/browser does the same in chromium).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  SECRET_KEY,
  serviceStores,
  startTestService,
  type TestService,
} from "../../../test/security/harness.js";
import { CONSENT_FIELDS, DECISION_PATH } from "../../emulator/index.js";
import type { RunningService } from "../service.js";

let t: TestService;
let service: RunningService;

/** A browser's cookie jar over fetch (one jar per simulated browser). */
class Browser {
  readonly jar = new Map<string, string>();

  async request(path: string | URL, init: RequestInit = {}): Promise<Response> {
    const url = new URL(path, service.url);
    const headers = new Headers(init.headers);
    if (this.jar.size > 0) headers.set("cookie", [...this.jar].map(([k, v]) => `${k}=${v}`).join("; "));
    const res = await fetch(url, { ...init, headers, redirect: "manual" });
    for (const line of res.headers.getSetCookie()) {
      const [pair = ""] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === "" || /max-age=0/i.test(line)) this.jar.delete(name);
      else this.jar.set(name, value);
    }
    return res;
  }

  async page(path: string | URL): Promise<{ res: Response; text: string }> {
    const res = await this.request(path);
    return { res, text: await res.text() };
  }

  post(path: string | URL, fields: Record<string, string | string[]>): Promise<Response> {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(fields)) for (const one of [v].flat()) body.append(k, one);
    return this.request(path, { method: "POST", body });
  }

  /** Follows redirects (GET) from a response, returning the final page. */
  async follow(res: Response): Promise<{ res: Response; text: string; url: URL }> {
    let current = res;
    let url = new URL(res.url);
    for (let hop = 0; hop < 10; hop++) {
      const location = current.headers.get("location");
      if (!location) return { res: current, text: await current.text(), url };
      await current.body?.cancel();
      url = new URL(location, url);
      current = await this.request(url);
    }
    throw new Error("too many redirects");
  }
}

const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";
const decodeEntities = (s: string) => s.replaceAll("&amp;", "&");

async function signIn(browser: Browser): Promise<string> {
  const { text } = await browser.page("/login");
  const res = await browser.post("/login", { _csrf: csrfOf(text), secret_key: SECRET_KEY });
  expect(res.status).toBe(303);
  const home = await browser.follow(res);
  return csrfOf(home.text);
}

describe.each(serviceStores("dashboard"))("dashboard (%s)", (store) => {
  beforeAll(async () => {
    // The emulator's real consent form, not auto-approval: the "end user" submits it below.
    t = await startTestService({ store, demoEmulator: { autoApprove: false }, start: { keepAlive: false } });
    service = t.service;
  });

  afterAll(async () => {
    await t?.close();
  });

  describe("dashboard sign-in", () => {
    it("sends anonymous visitors to the sign-in page, with the demo banner and strict headers", async () => {
      const browser = new Browser();
      const home = await browser.request("/");
      expect(home.status).toBe(303);
      expect(home.headers.get("location")).toBe("/login");

      const { res, text } = await browser.page("/login");
      expect(res.status).toBe(200);
      expect(text).toContain("Demo mode:");
      expect(text).toContain(service.emulator!.url);
      expect(text).toMatch(/<label for="secret_key">/);
      expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
      expect(res.headers.get("cache-control")).toBe("no-store");
      const cookie = res.headers.getSetCookie().join("\n");
      expect(cookie).toMatch(/airlock_session=/);
      expect(cookie).toMatch(/HttpOnly/i);
      expect(cookie).toMatch(/SameSite=Lax/i);

      // The dashboard's headers stay on the dashboard's own routes.
      const api = await fetch(`${service.url}/v1/connections`, {
        headers: { authorization: `Bearer ${SECRET_KEY}` },
      });
      expect(api.status).toBe(200);
      expect(api.headers.get("content-security-policy")).toBeNull();
    });

    it("refuses a wrong key with a plain message, and a form without its CSRF token with 403", async () => {
      const browser = new Browser();
      const { text } = await browser.page("/login");
      const wrong = await browser.post("/login", { _csrf: csrfOf(text), secret_key: "not-the-key" });
      expect(wrong.status).toBe(401);
      expect(await wrong.text()).toContain("That secret key is not right.");
      expect(browser.jar.size).toBe(1);

      const noToken = await browser.post("/login", { secret_key: SECRET_KEY });
      expect(noToken.status).toBe(403);
      expect(await noToken.text()).toContain("CSRF");

      // A token from another browser's session does not work either (the synchronizer is per session).
      const other = new Browser();
      const otherForm = await other.page("/login");
      const stolen = await browser.post("/login", { _csrf: csrfOf(otherForm.text), secret_key: SECRET_KEY });
      expect(stolen.status).toBe(403);

      // No session cookie at all: nothing to bind the token to.
      const bare = await fetch(`${service.url}/login`, {
        method: "POST",
        body: new URLSearchParams({ _csrf: csrfOf(otherForm.text), secret_key: SECRET_KEY }),
        redirect: "manual",
      });
      expect(bare.status).toBe(403);
    });

    it("signs in with a fresh session, checks CSRF on every signed-in form, and signs out", async () => {
      const browser = new Browser();
      const { text } = await browser.page("/login");
      const anonCookie = [...browser.jar.values()][0];
      const anonCsrf = csrfOf(text);
      const csrf = await signIn(browser);
      expect([...browser.jar.values()][0]).not.toBe(anonCookie);
      expect(csrf).not.toBe(anonCsrf);

      for (const [path, fields] of [
        ["/connections", { identifier: "csrf_probe", scopes: "schema.bases:read" }],
        ["/connections/csrf_probe/disconnect", {}],
        ["/connections/csrf_probe/reconnect", {}],
        ["/connections/csrf_probe/try", { action: "bases" }],
        ["/logout", {}],
      ] as const) {
        expect((await browser.post(path, fields)).status, `${path} without a token`).toBe(403);
        expect(
          (await browser.post(path, { ...fields, _csrf: anonCsrf })).status,
          `${path} with a stale token`,
        ).toBe(403);
      }
      const signedIn = await browser.page("/");
      expect(signedIn.res.status).toBe(200);
      expect(signedIn.text).toContain("No connections yet");

      const out = await browser.post("/logout", { _csrf: csrf });
      expect(out.status).toBe(303);
      expect(browser.jar.size).toBe(0);
      expect((await browser.request("/")).status).toBe(303);
    });
  });

  describe("dashboard connections", () => {
    it("connects a user through the emulator's consent form and tries the proxy", async () => {
      const admin = new Browser();
      const csrf = await signIn(admin);

      const bad = await admin.post("/connections", {
        _csrf: csrf,
        identifier: "../admin",
        scopes: "schema.bases:read",
      });
      expect(bad.status).toBe(400);
      expect(await bad.text()).toContain("letters, digits");

      const created = await admin.post("/connections", {
        _csrf: csrf,
        identifier: "dash_user",
        scopes: ["data.records:read", "schema.bases:read", "user.email:read"],
      });
      expect(created.status).toBe(200);
      const linkPage = await created.text();
      const link = decodeEntities(
        /id="connect-url" type="text" readonly value="([^"]+)"/.exec(linkPage)?.[1] ?? "",
      );
      expect(link).toMatch(new RegExp(`^${service.url}/connect/[A-Za-z0-9_-]{43}$`));
      expect(linkPage).toContain("Open link");

      // The end user, in their own browser: the consent page, one base ticked, Allow.
      const user = new Browser();
      const consent = await user.follow(await user.request(link));
      expect(consent.res.status).toBe(200);
      expect(consent.text).toContain("wants to access your Airtable account");
      const requestId = new RegExp(`name="${CONSENT_FIELDS.requestId}" value="([^"]+)"`).exec(
        consent.text,
      )?.[1];
      const bases = [...consent.text.matchAll(/name="bases" value="(app[A-Za-z0-9]+)"[^>]*> ([^<]+)</g)].map(
        (m) => ({
          id: m[1]!,
          name: m[2]!.trim(),
        }),
      );
      expect(bases.length).toBeGreaterThan(1);
      const granted = bases[0]!;
      const decision = await user.request(new URL(DECISION_PATH, consent.url), {
        method: "POST",
        body: new URLSearchParams({
          [CONSENT_FIELDS.requestId]: requestId ?? "",
          [CONSENT_FIELDS.bases]: granted.id,
          [CONSENT_FIELDS.decision]: "allow",
        }),
      });
      const landed = await user.follow(decision);
      expect(landed.url.pathname).toBe("/connected");
      expect(landed.url.searchParams.get("status")).toBe("connected");
      // The end user sees a plain page, nothing of the dashboard.
      expect(landed.text).toContain("Airtable connected");
      expect(landed.text).not.toContain("Sign out");

      // The admin landing on the same URL goes to the connection.
      const back = await admin.request(`/connected${landed.url.search}`);
      expect(back.status).toBe(303);
      const detail = await admin.follow(back);
      expect(detail.url.pathname).toBe("/connections/dash_user");
      expect(detail.text).toContain("Connected. Airtable approved");
      expect(detail.text).toContain("connection.created");

      const list = await admin.page("/");
      expect(list.text).toContain('href="/connections/dash_user"');
      expect(list.text).toContain('<span class="badge active">Active</span>');
      expect(list.text).toContain("ada.lovelace@example.com");
      expect(list.text).toMatch(/>in 5\d minutes</);
      expect(list.text).toMatch(/>in 59 days</);

      // Try it: bases through the proxy show only the granted base; then its tables.
      const tryBases = await admin.post("/connections/dash_user/try", { _csrf: csrf, action: "bases" });
      expect(tryBases.status).toBe(200);
      const basesHtml = await tryBases.text();
      expect(basesHtml).toContain(granted.name);
      for (const other of bases.slice(1)) expect(basesHtml).not.toContain(other.id);

      const tryTables = await admin.post("/connections/dash_user/try", {
        _csrf: csrf,
        action: "tables",
        base_id: granted.id,
        base_name: granted.name,
      });
      const tablesHtml = await tryTables.text();
      expect(tablesHtml).toContain(`Tables of ${granted.name}`);
      expect(tablesHtml).toMatch(/<span class="sub mono">tbl[A-Za-z0-9]{14}<\/span>/);

      // A base the user did not grant: Airtable's refusal in plain words, not a crash.
      const refused = await admin.post("/connections/dash_user/try", {
        _csrf: csrf,
        action: "tables",
        base_id: bases[1]!.id,
      });
      expect(refused.status).toBe(200);
      expect(await refused.text()).toMatch(/Airtable said .* \(HTTP 40[34]\)/);

      const badBase = await admin.post("/connections/dash_user/try", {
        _csrf: csrf,
        action: "tables",
        base_id: "x",
      });
      expect(badBase.status).toBe(400);

      // No token ever reaches a page.
      const token = await fetch(`${service.url}/v1/connections/dash_user/access-token`, {
        method: "POST",
        headers: { authorization: `Bearer ${SECRET_KEY}` },
      });
      const { access_token } = (await token.json()) as { access_token: string };
      for (const html of [list.text, detail.text, basesHtml, tablesHtml])
        expect(html).not.toContain(access_token);
    });

    it("offers Reconnect for a connection that needs it, and disconnects after a confirmation", async () => {
      const admin = new Browser();
      const csrf = await signIn(admin);
      const { store } = service.ctx;
      const connection = await store.getConnection("dash_user");
      expect(connection).not.toBeNull();
      await store.markReauthRequired(
        "dash_user",
        { version: connection!.version, reason: "invalid_grant", now: new Date() },
        { type: "connection.reauth_required", data: { reason: "invalid_grant" } },
      );

      const list = await admin.page("/?status=reauth_required");
      expect(list.text).toContain("Reconnect needed");
      expect(list.text).toContain("Airtable rejected the refresh token");
      expect(list.text).toContain('action="/connections/dash_user/reconnect"');

      const reconnect = await admin.post("/connections/dash_user/reconnect", { _csrf: csrf });
      expect(reconnect.status).toBe(200);
      const page = await reconnect.text();
      expect(page).toContain("Reconnect link for dash_user");
      expect(page).toMatch(/\/connect\/[A-Za-z0-9_-]{43}/);

      const confirm = await admin.page("/connections/dash_user/disconnect");
      expect(confirm.text).toContain("Disconnect dash_user?");
      const gone = await admin.post("/connections/dash_user/disconnect", { _csrf: csrfOf(confirm.text) });
      expect(gone.status).toBe(303);
      const after = await admin.follow(gone);
      expect(after.text).toContain("Disconnected dash_user.");
      expect(await store.getConnection("dash_user")).toBeNull();
      expect((await admin.page("/connections/dash_user")).res.status).toBe(404);

      // Identifiers with : @ + travel encoded in paths and come back decoded and escaped.
      const odd = await admin.page("/connections/acme%3Ateam%40x%2B1/disconnect");
      expect(odd.res.status).toBe(404);
      expect(odd.text).toContain("There is no connection &quot;acme:team@x+1&quot;.");
      const hostile = await admin.page("/connections/%3Cscript%3E");
      expect(hostile.res.status).toBe(404);
      expect(hostile.text).not.toContain("<script>");
    });

    it("serves its stylesheet and script with long caching under hashed URLs", async () => {
      const { text } = await new Browser().page("/login");
      const css = /href="(\/assets\/dashboard\.css\?v=[0-9a-f]+)"/.exec(text)?.[1];
      const js = /src="(\/assets\/dashboard\.js\?v=[0-9a-f]+)"/.exec(text)?.[1];
      const cssRes = await fetch(`${service.url}${css}`);
      expect(cssRes.headers.get("content-type")).toContain("text/css");
      expect(cssRes.headers.get("cache-control")).toContain("immutable");
      const jsRes = await fetch(`${service.url}${js}`);
      expect(jsRes.headers.get("content-type")).toContain("javascript");
    });
  });
});
