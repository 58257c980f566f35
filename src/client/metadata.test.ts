/**
 * The SDK's connection metadata (issue 12) against the real service (demo mode, SQLite, and
 * PostgreSQL when AIRLOCK_TEST_DATABASE_URL is set): `createConnectSession({metadata})` puts it on
 * the connection, `updateConnectionMetadata` replaces and clears it, and the service's refusals
 * arrive as `AirlockApiError` with the hint.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Browser,
  location,
  SECRET_KEY,
  serviceStores,
  startTestService,
  type TestService,
  useConnectLink,
} from "../../test/security/harness.js";
import { AirlockApiError, AirlockClient } from "./index.js";

/** Walks a connect link to the callback and back, as the end user's browser. */
async function walk(url: string): Promise<void> {
  const browser = new Browser();
  let next = location(await useConnectLink(browser, url));
  for (let hop = 0; hop < 6; hop++) {
    const res = await browser.get(next);
    if (res.status !== 302) return;
    next = new URL(location(res), next).href;
  }
}

describe.each(serviceStores("client metadata"))("SDK connection metadata on the %s store", (store) => {
  let t: TestService;
  let airlock: AirlockClient;

  beforeAll(async () => {
    t = await startTestService({ store, demoEmulator: { autoApprove: true }, start: { keepAlive: false } });
    airlock = new AirlockClient({ baseUrl: t.url, secretKey: SECRET_KEY });
  });

  afterAll(async () => {
    await t?.close();
  });

  it("sets metadata on a connect session, reads it back, replaces and clears it", async () => {
    const session = await airlock.createConnectSession({
      identifier: "sdk_meta",
      metadata: { team: "t_1", seats: 3 },
    });
    await walk(session.url);
    expect((await airlock.getConnection("sdk_meta")).metadata).toEqual({ team: "t_1", seats: 3 });
    const page = await airlock.listConnections();
    expect(page.connections.find((c) => c.identifier === "sdk_meta")?.metadata).toEqual({
      team: "t_1",
      seats: 3,
    });
    const updated = await airlock.updateConnectionMetadata("sdk_meta", { team: "t_2" });
    expect(updated.metadata).toEqual({ team: "t_2" });
    expect(updated.identifier).toBe("sdk_meta");
    expect((await airlock.updateConnectionMetadata("sdk_meta", null)).metadata).toBeNull();
    expect((await airlock.getConnection("sdk_meta")).metadata).toBeNull();
  });

  it("throws the service's refusals: invalid metadata with the fix, not_found", async () => {
    const tooBig = await airlock
      .updateConnectionMetadata("sdk_meta", { blob: "x".repeat(5000) })
      .catch((e: unknown) => e);
    expect(tooBig).toBeInstanceOf(AirlockApiError);
    expect((tooBig as AirlockApiError).code).toBe("invalid_input");
    expect((tooBig as AirlockApiError).hint).toContain("your own database");
    const unknown = await airlock.updateConnectionMetadata("sdk_nobody", { a: 1 }).catch((e: unknown) => e);
    expect((unknown as AirlockApiError).code).toBe("not_found");
  });
});
