/**
 * Signing out of the dashboard ends the session for good: a session cookie captured before the
 * sign-out is refused afterwards, by this instance, by a second instance on the same database, and
 * after a restart (the session epoch lives in the store). SQLite and, when
 * AIRLOCK_TEST_DATABASE_URL is set, PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyringValue } from "../../src/store/crypto.js";
import { SECRET_KEY, serviceStores, startTestService, type TestService } from "./harness.js";

const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";

/** The session cookie (`name=value`) a response sets, if any. */
function sessionCookie(res: Response): string | undefined {
  for (const line of res.headers.getSetCookie()) {
    const pair = line.split(";")[0] ?? "";
    if (pair.includes("airlock_session=") && !/max-age=0/i.test(line)) return pair;
  }
  return undefined;
}

function get(url: string, cookie: string | undefined): Promise<Response> {
  return fetch(url, { headers: cookie ? { cookie } : {}, redirect: "manual" });
}

function post(url: string, cookie: string, fields: Record<string, string>): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { cookie },
    body: new URLSearchParams(fields),
    redirect: "manual",
  });
}

/** Signs in on `base` and returns the signed-in cookie and the CSRF token of the home page. */
async function signIn(base: string): Promise<{ cookie: string; csrf: string }> {
  const form = await get(`${base}/login`, undefined);
  const anon = sessionCookie(form);
  if (!anon) throw new Error("no anonymous session cookie");
  const res = await post(`${base}/login`, anon, { _csrf: csrfOf(await form.text()), secret_key: SECRET_KEY });
  expect(res.status).toBe(303);
  const cookie = sessionCookie(res);
  if (!cookie) throw new Error("no signed-in session cookie");
  const home = await get(`${base}/`, cookie);
  expect(home.status).toBe(200);
  return { cookie, csrf: csrfOf(await home.text()) };
}

/** True when the cookie opens the connections page; false when it is sent to the sign-in page. */
async function signedIn(base: string, cookie: string): Promise<boolean> {
  const res = await get(`${base}/`, cookie);
  await res.body?.cancel();
  if (res.status === 200) return true;
  expect(res.status).toBe(303);
  expect(res.headers.get("location")).toBe("/login");
  return false;
}

describe.each(serviceStores("sessions"))("dashboard sign-out (%s)", (store) => {
  const encryptionKeys = generateKeyringValue("sessions1");
  let a: TestService;
  let b: TestService;

  beforeAll(async () => {
    a = await startTestService({ store, env: { AIRLOCK_ENCRYPTION_KEYS: encryptionKeys } });
    b = await startTestService({
      env: { DATABASE_URL: a.databaseUrl, AIRLOCK_ENCRYPTION_KEYS: encryptionKeys },
    });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it("refuses a cookie captured before sign-out, on every instance and after a restart", async () => {
    const { cookie, csrf } = await signIn(a.url);
    // One session works on both instances (same key, same database).
    expect(await signedIn(a.url, cookie)).toBe(true);
    expect(await signedIn(b.url, cookie)).toBe(true);
    const other = await signIn(b.url);

    const out = await post(`${a.url}/logout`, cookie, { _csrf: csrf });
    expect(out.status).toBe(303);
    expect(out.headers.get("location")).toBe("/login");

    // The captured cookie is dead everywhere, and so is every other session signed in before.
    expect(await signedIn(a.url, cookie)).toBe(false);
    expect(await signedIn(b.url, cookie)).toBe(false);
    expect(await signedIn(b.url, other.cookie)).toBe(false);
    // Its forms are refused too (not only the pages).
    const replay = await post(`${b.url}/connections`, cookie, {
      _csrf: csrf,
      identifier: "after_sign_out",
      scopes: "schema.bases:read",
    });
    expect(replay.status).not.toBe(200);
    expect(await b.service.ctx.store.getConnection("after_sign_out")).toBeNull();

    // A new sign-in works on both instances.
    const again = await signIn(b.url);
    expect(await signedIn(a.url, again.cookie)).toBe(true);

    // The epoch survives a restart of the instance that signed out.
    const restarted = await startTestService({
      env: { DATABASE_URL: a.databaseUrl, AIRLOCK_ENCRYPTION_KEYS: encryptionKeys },
    });
    try {
      expect(await signedIn(restarted.url, cookie)).toBe(false);
      expect(await signedIn(restarted.url, again.cookie)).toBe(true);
    } finally {
      await restarted.close();
    }
  });
});
