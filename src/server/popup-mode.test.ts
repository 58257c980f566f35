import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { rememberPopup, takePopup } from "./popup-mode.js";

const STATE = "s".repeat(43);

/** Sets the mark on one request and reads it back (cookies carried by hand) on the next. */
async function roundTrip(publicUrl: string, state = STATE) {
  const config = { publicUrl };
  const app = new Hono();
  app.post("/connect", (c) => {
    rememberPopup(c, config, STATE, 600);
    return c.body(null, 302);
  });
  app.get("/oauth/callback", (c) => c.text(String(takePopup(c, config, state))));
  const set = (await app.request("/connect", { method: "POST" })).headers.getSetCookie();
  const cookie = set.map((line) => line.split(";")[0]).join("; ");
  const back = await app.request("/oauth/callback", { headers: { cookie } });
  return { set, popup: await back.text(), cleared: back.headers.getSetCookie() };
}

describe("popup mode cookie", () => {
  it("marks one flow, HttpOnly and SameSite=Lax, and is cleared when taken", async () => {
    const { set, popup, cleared } = await roundTrip("http://localhost:4000");
    expect(set).toHaveLength(1);
    expect(set[0]).toMatch(/^airlock_popup_[\w-]{16}=1; Max-Age=600; Path=\/; HttpOnly; SameSite=Lax$/);
    expect(set[0]).not.toContain(STATE);
    expect(popup).toBe("true");
    expect(cleared[0]).toMatch(/Max-Age=0/);
  });

  it("is __Host- and Secure on https", async () => {
    const { set, popup } = await roundTrip("https://airlock.example.com");
    expect(set[0]).toMatch(/^__Host-airlock_popup_[\w-]{16}=1;.*Secure/);
    expect(popup).toBe("true");
  });

  it("does not mark another flow", async () => {
    expect((await roundTrip("http://localhost:4000", "t".repeat(43))).popup).toBe("false");
  });
});
