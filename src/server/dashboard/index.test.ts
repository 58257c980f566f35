/**
 * The dashboard over real HTTP against the real service (in-process `startService` in demo mode:
 * SQLite in a temp folder, and PostgreSQL when AIRLOCK_TEST_DATABASE_URL is set; the emulator with its real consent form, which the "end user" submits
 * over HTTP here; the browser suite under test/browser does the same in chromium).
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  SECRET_KEY,
  serviceStores,
  startTestService,
  type TestService,
} from "../../../test/security/harness.js";
import { continueAction } from "../../../test/support/connect-link.js";
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

/** The link on a freshly created connect-link page. */
const linkOf = (html: string) =>
  decodeEntities(/id="connect-url" type="text" readonly value="([^"]+)"/.exec(html)?.[1] ?? "");

/** The end user opens `link`, presses Continue, and answers the emulator's real consent form; returns where they land. */
async function consent(
  user: Browser,
  link: string,
  decision: "allow" | "deny",
): Promise<{ res: Response; text: string; url: URL }> {
  const linkPage = await user.page(link);
  const page = await user.follow(await user.post(continueAction(linkPage.text, link), {}));
  const requestId = new RegExp(`name="${CONSENT_FIELDS.requestId}" value="([^"]+)"`).exec(page.text)?.[1];
  const bases = [...page.text.matchAll(/name="bases" value="(app[A-Za-z0-9]+)"/g)].map((m) => m[1]!);
  const body = new URLSearchParams({ [CONSENT_FIELDS.requestId]: requestId ?? "" });
  for (const base of bases) body.append(CONSENT_FIELDS.bases, base);
  body.set(CONSENT_FIELDS.decision, decision);
  return user.follow(await user.request(new URL(DECISION_PATH, page.url), { method: "POST", body }));
}

/** Stores an active connection directly (no consent click needed). */
async function seed(identifier: string): Promise<void> {
  const now = new Date();
  await service.ctx.store.upsertConnection(
    {
      identifier,
      scopes: ["data.records:read", "schema.bases:read"],
      airtableUserId: "usrSeeded000000001",
      email: null,
      accessToken: `tok_${identifier}`,
      refreshToken: `ref_${identifier}`,
      accessTokenExpiresAt: new Date(now.getTime() + 59.5 * 60_000),
      refreshTokenExpiresAt: new Date(now.getTime() + 59.5 * 86_400_000),
    },
    now,
    () => ({ type: "connection.created" }),
  );
}

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
      const continuePage = await user.page(link);
      expect(continuePage.res.status).toBe(200);
      expect(continuePage.text).toContain("Continue to Airtable");
      const consent = await user.follow(await user.post(continueAction(continuePage.text, link), {}));
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
      const tryBases = await admin.page("/connections/dash_user/try?action=bases");
      expect(tryBases.res.status).toBe(200);
      const basesHtml = tryBases.text;
      expect(basesHtml).toContain(granted.name);
      for (const other of bases.slice(1)) expect(basesHtml).not.toContain(other.id);

      const tryTables = await admin.page(`/connections/dash_user/try?action=tables&base_id=${granted.id}`);
      const tablesHtml = tryTables.text;
      expect(tablesHtml).toContain(`Tables of ${granted.name}`);
      expect(tablesHtml).toMatch(/<span class="sub mono">tbl[A-Za-z0-9]{14}<\/span>/);

      // A base the user did not grant: Airtable's refusal in plain words, not a crash.
      const refused = await admin.page(`/connections/dash_user/try?action=tables&base_id=${bases[1]!.id}`);
      expect(refused.res.status).toBe(200);
      expect(refused.text).toMatch(/Airtable said .* \(HTTP 40[34]\)/);

      const badBase = await admin.page("/connections/dash_user/try?action=tables&base_id=x");
      expect(badBase.res.status).toBe(400);

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
      expect(page).toMatch(/Reconnect link for (<[^>]+>)?dash_user/);
      expect(page).toMatch(/\/connect\/[A-Za-z0-9_-]{43}/);

      const confirm = await admin.page("/connections/dash_user/disconnect");
      expect(confirm.text).toMatch(/Disconnect (<[^>]+>)?dash_user(<\/span>)?\?/);
      const gone = await admin.post("/connections/dash_user/disconnect", { _csrf: csrfOf(confirm.text) });
      expect(gone.status).toBe(303);
      const after = await admin.follow(gone);
      expect(after.text).toContain("Disconnected dash_user.");
      expect((await store.getConnection("dash_user"))?.status).toBe("revoked");
      expect((await admin.page("/connections/dash_user")).res.status).toBe(200);

      // Identifiers with : @ + travel encoded in paths and come back decoded and escaped.
      const odd = await admin.page("/connections/acme%3Ateam%40x%2B1/disconnect");
      expect(odd.res.status).toBe(404);
      expect(odd.text).toContain("There is no connection &quot;acme:team@x+1&quot;.");
      const hostile = await admin.page("/connections/%3Cscript%3E");
      expect(hostile.res.status).toBe(404);
      expect(hostile.text).not.toContain("<script>");
    });

    it("says what happened to an identifier without a connection: a pending link, then a declined consent", async () => {
      const admin = new Browser();
      const csrf = await signIn(admin);
      const created = await admin.post("/connections", {
        _csrf: csrf,
        identifier: "attempt_user",
        scopes: ["schema.bases:read"],
      });
      const link = linkOf(await created.text());

      const pending = await admin.page("/connections/attempt_user");
      expect(pending.res.status).toBe(200);
      expect(pending.text).toContain("Pending: nobody has pressed “Continue to Airtable” on the link yet");
      expect(pending.text).not.toContain("It may have been disconnected");

      // A link the app made over the API counts too.
      const apiMade = await fetch(`${service.url}/v1/connect-sessions`, {
        method: "POST",
        headers: { authorization: `Bearer ${SECRET_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ identifier: "api_attempt" }),
      });
      expect(apiMade.status).toBe(201);
      expect((await admin.page("/connections/api_attempt")).text).toContain(
        "Pending: nobody has pressed “Continue to Airtable” on the link yet",
      );

      // The end user declines on the consent page.
      const user = new Browser();
      const landed = await consent(user, link, "deny");
      expect(landed.url.searchParams.get("error")).toBe("access_denied");

      const failed = await admin.page("/connections/attempt_user");
      expect(failed.res.status).toBe(200);
      expect(failed.text).toContain("The last attempt failed: access_denied");
      expect(failed.text).toContain("declined");
      expect(failed.text).toContain("connection.connect_failed");
      expect(failed.text).not.toContain("It may have been disconnected");
      // The next link is pending again.
      await admin.post("/connections", {
        _csrf: csrf,
        identifier: "attempt_user",
        scopes: ["schema.bases:read"],
      });
      expect((await admin.page("/connections/attempt_user")).text).toContain(
        "Pending: nobody has pressed “Continue to Airtable” on the link yet",
      );

      // An identifier nobody ever made a link for is still a 404, and says so plainly.
      const unknown = await admin.page("/connections/never_seen");
      expect(unknown.res.status).toBe(404);
      expect(unknown.text).toContain("No connect link was ever created");
      expect(unknown.text).not.toContain("It may have been disconnected");
    });

    it("shows a reauth_required connection's tokens as dead, not as live expiries", async () => {
      const admin = new Browser();
      await signIn(admin);
      await seed("dead_tokens");
      const live = await admin.page("/connections/dead_tokens");
      expect(live.text).toMatch(/>in 59 minutes</);

      const row = await service.ctx.store.getConnection("dead_tokens");
      await service.ctx.store.markReauthRequired(
        "dead_tokens",
        { version: row!.version, reason: "invalid_grant", now: new Date() },
        { type: "connection.reauth_required", data: { reason: "invalid_grant" } },
      );
      const dead = await admin.page("/connections/dead_tokens");
      expect(dead.text).not.toMatch(/>in \d+ (minute|hour|day)s?</);
      expect(dead.text).toContain("Not usable: Airtable no longer accepts these tokens");
      expect(dead.text).toContain("Reconnect to get new tokens");
      const list = await admin.page("/?status=reauth_required");
      const listRow =
        /<tr>(?:(?!<\/tr>)[\s\S])*dead_tokens(?:(?!<\/tr>)[\s\S])*<\/tr>/.exec(list.text)?.[0] ?? "";
      expect(listRow).toContain("dead_tokens");
      expect(listRow).not.toMatch(/>in \d+ (minute|hour|day)s?</);
    });

    it("refuses an identifier over the limit with a message (no silent maxlength cut)", async () => {
      const admin = new Browser();
      const csrf = await signIn(admin);
      const home = await admin.page("/");
      const field = /<input id="identifier"[^>]*>/.exec(home.text)?.[0] ?? "";
      expect(field).not.toContain("maxlength");

      const res = await admin.post("/connections", {
        _csrf: csrf,
        identifier: "a".repeat(300),
        scopes: ["schema.bases:read"],
      });
      expect(res.status).toBe(400);
      const text = await res.text();
      expect(text).toContain("The identifier is 300 characters long; at most 255 are allowed.");
      // The same rule as the API's schema: 255 is fine.
      const ok = await admin.post("/connections", {
        _csrf: csrf,
        identifier: "b".repeat(255),
        scopes: ["schema.bases:read"],
      });
      expect(ok.status).toBe(200);
      const api = await fetch(`${service.url}/v1/connect-sessions`, {
        method: "POST",
        headers: { authorization: `Bearer ${SECRET_KEY}`, "content-type": "application/json" },
        body: JSON.stringify({ identifier: "a".repeat(256) }),
      });
      expect(api.status).toBe(400);
    });

    it("gives browsers an HTML 404 page with the CSP, and API clients JSON", async () => {
      const html = await fetch(`${service.url}/no/such/page`, { headers: { accept: "text/html,*/*;q=0.8" } });
      expect(html.status).toBe(404);
      expect(html.headers.get("content-type")).toMatch(/text\/html/);
      expect(html.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
      expect(await html.text()).toContain("There is no page at /no/such/page");

      const json = await fetch(`${service.url}/no/such/page`, { headers: { accept: "application/json" } });
      expect(json.status).toBe(404);
      expect(((await json.json()) as { error: { code: string } }).error.code).toBe("not_found");
      const bare = await fetch(`${service.url}/no/such/page`);
      expect(bare.headers.get("content-type")).toMatch(/application\/json/);
      expect(bare.headers.get("content-security-policy")).toBeNull();
    });

    it("leaves reopenable URLs in the address bar after Try it, a new link and a reconnect link", async () => {
      const admin = new Browser();
      const csrf = await signIn(admin);
      const user = new Browser();
      const created = await admin.post("/connections", {
        _csrf: csrf,
        identifier: "reopen_user",
        scopes: ["schema.bases:read"],
      });
      await consent(user, linkOf(await created.text()), "allow");

      // The Try it forms are GETs, so the URL they leave can be reopened (and bookmarked).
      const detail = await admin.page("/connections/reopen_user");
      expect(detail.text).toMatch(/<form method="get" action="\/connections\/reopen_user\/try#try-it"/);
      const bases = await admin.page("/connections/reopen_user/try?action=bases");
      expect(bases.res.status).toBe(200);
      expect(bases.text).toContain("Bases (GET /v0/meta/bases)");
      const baseId = /name="base_id" value="(app[A-Za-z0-9]{14})"/.exec(bases.text)?.[1];
      const tables = await admin.page(`/connections/reopen_user/try?action=tables&base_id=${baseId}`);
      expect(tables.res.status).toBe(200);
      expect(tables.text).toContain("Tables of ");
      // A form posted by an older page still works, and lands on the same reopenable URL.
      const posted = await admin.post("/connections/reopen_user/try", { _csrf: csrf, action: "bases" });
      expect(posted.status).toBe(303);
      expect(posted.headers.get("location")).toBe("/connections/reopen_user/try?action=bases#try-it");

      // The one-time link pages are not reopenable by design; their URLs lead somewhere sensible.
      const list = await admin.request("/connections");
      expect(list.status).toBe(303);
      expect(list.headers.get("location")).toBe("/");
      const reconnect = await admin.request("/connections/reopen_user/reconnect");
      expect(reconnect.status).toBe(303);
      expect(reconnect.headers.get("location")).toBe("/connections/reopen_user");
    });

    it("keeps a disconnected connection's page: revoked, tokens gone, history and Reconnect there", async () => {
      const admin = new Browser();
      const csrf = await signIn(admin);
      await seed("bye_user");
      const confirm = await admin.page("/connections/bye_user/disconnect");
      const gone = await admin.post("/connections/bye_user/disconnect", { _csrf: csrfOf(confirm.text) });
      expect(gone.status).toBe(303);
      const after = await admin.follow(gone);
      expect(after.url.pathname).toBe("/connections/bye_user");
      expect(after.res.status).toBe(200);
      expect(after.text).toContain("Disconnected bye_user.");
      expect(after.text).toContain('<span class="badge revoked">Revoked</span>');
      expect(after.text).toContain("connection.deleted");
      expect(after.text).toContain('action="/connections/bye_user/reconnect"');
      expect(after.text).not.toContain('href="/connections/bye_user/disconnect"');
      expect(after.text).not.toMatch(/>in \d+ (minute|hour|day)s?</);
      const row = await service.ctx.store.getConnection("bye_user");
      expect(row?.status).toBe("revoked");
      expect(row?.accessToken).not.toBe("tok_bye_user");
      expect(row?.refreshToken).not.toBe("ref_bye_user");
      const revoked = await admin.page("/?status=revoked");
      expect(revoked.text).toContain('href="/connections/bye_user"');
      // Disconnecting again changes nothing and says so.
      const again = await admin.post("/connections/bye_user/disconnect", { _csrf: csrf });
      expect(again.status).toBe(303);
      expect((await service.ctx.store.listEvents("bye_user", { limit: 10 })).map((e) => e.type)).toEqual([
        "connection.deleted",
        "connection.created",
      ]);
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

describe("dashboard sign-in in demo mode", () => {
  let kept: TestService;
  beforeAll(async () => {
    // No AIRLOCK_SECRET_KEY: the demo key is generated once and kept in .airlock/demo-keys.json.
    kept = await startTestService({
      env: { AIRLOCK_SECRET_KEY: "", AIRLOCK_ENCRYPTION_KEYS: "" },
      start: { keepAlive: false },
    });
  });
  afterAll(async () => {
    await kept?.close();
  });

  it("repeats the key file's path on the sign-in page, and names no file for a key from the environment", async () => {
    const page = await (await fetch(`${kept.url}/login`)).text();
    expect(page).toContain(join(kept.dir, ".airlock", "demo-keys.json"));

    const fromEnv = await startTestService({ start: { keepAlive: false } });
    try {
      const other = await (await fetch(`${fromEnv.url}/login`)).text();
      expect(other).toContain("Demo mode:");
      expect(other).not.toContain("demo-keys.json");
    } finally {
      await fromEnv.close();
    }
  });
});
