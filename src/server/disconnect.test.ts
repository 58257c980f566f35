import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, startTestService, type TestService } from "../../test/security/harness.js";
import { disconnect } from "./disconnect.js";

describe("disconnect", () => {
  let t: TestService;
  beforeAll(async () => {
    t = await startTestService({ start: { keepAlive: false } });
  });
  afterAll(async () => {
    await t.close();
  });

  it("revokes the connection, records who did it, and stops the proxy at once (no cached token)", async () => {
    await connect(t, { identifier: "bye" });
    expect((await t.api("/v1/proxy/bye/v0/meta/whoami")).status).toBe(200);

    expect(await disconnect(t.service.ctx, "bye", "dashboard")).toBe("revoked");
    expect((await t.api("/v1/proxy/bye/v0/meta/whoami")).status).toBe(409);
    const [event] = await t.service.ctx.store.listEvents("bye", { limit: 1 });
    expect(event).toMatchObject({ type: "connection.deleted", data: { source: "dashboard" } });
    expect((await t.service.ctx.store.getConnection("bye"))?.status).toBe("revoked");

    expect(await disconnect(t.service.ctx, "bye", "dashboard")).toBe("already_revoked");
    expect(await disconnect(t.service.ctx, "nobody", "api")).toBe("not_found");
  });
});
