import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { ensureBrowserBinding, readBrowserBinding } from "./browser-binding.js";

function app(publicUrl: string) {
  const hono = new Hono();
  hono.get("/start", (c) => c.text(ensureBrowserBinding(c, { publicUrl })));
  hono.get("/read", (c) => c.text(readBrowserBinding(c, { publicUrl }) ?? "none"));
  return hono;
}

describe("browser binding cookie", () => {
  it("is HttpOnly, SameSite=Lax and host-only over plain http", async () => {
    const res = await app("http://localhost:4000").request("/start");
    const cookie = res.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^airlock_binding=[A-Za-z0-9_-]{43};/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).not.toMatch(/Domain=/i);
  });

  it("is Secure with the __Host- prefix over https", async () => {
    const res = await app("https://airlock.example.com").request("/start");
    const cookie = res.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^__Host-airlock_binding=/);
    expect(cookie).toMatch(/Secure/);
    expect(cookie).toMatch(/Path=\//);
  });

  it("reuses a well-formed value and ignores a malformed one", async () => {
    const value = "B".repeat(43);
    const reused = await app("http://localhost:4000").request("/start", {
      headers: { cookie: `airlock_binding=${value}` },
    });
    expect(await reused.text()).toBe(value);
    const malformed = await app("http://localhost:4000").request("/read", {
      headers: { cookie: "airlock_binding=x" },
    });
    expect(await malformed.text()).toBe("none");
  });
});
