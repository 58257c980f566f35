import { request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { createLogger } from "../shared/log.js";
import { type AppEnv, logSafePath, requestHeader, requestLog } from "./request-log.js";

describe("logSafePath", () => {
  it("redacts codes, states and token-like query parameters", () => {
    expect(logSafePath("http://h/oauth/callback?code=abc&state=xyz&scope=a")).toBe(
      "/oauth/callback?code=%5Bredacted%5D&state=%5Bredacted%5D&scope=a",
    );
    expect(logSafePath("http://h/v1/proxy/u/v0/x?access_token=t&offset=itr")).toBe(
      "/v1/proxy/u/v0/x?access_token=%5Bredacted%5D&offset=itr",
    );
  });
  it("redacts credential-like parameters by name, in any case, however the name is encoded", () => {
    expect(logSafePath("http://h/oauth/callback?CODE=abc&%73tate=xyz")).toBe(
      "/oauth/callback?CODE=%5Bredacted%5D&state=%5Bredacted%5D",
    );
    expect(
      logSafePath("http://h/x?auth_code=a&id_token=b&clientSecret=c&apiKey=d&offset=itr&pageSize=5"),
    ).toBe(
      "/x?auth_code=%5Bredacted%5D&id_token=%5Bredacted%5D&clientSecret=%5Bredacted%5D&apiKey=%5Bredacted%5D&offset=itr&pageSize=5",
    );
  });
  it("redacts connect tokens in the path", () => {
    expect(logSafePath("http://h/connect/SECRETTOKEN")).toBe("/connect/[redacted]");
  });
  it("keeps the proxy path", () => {
    expect(logSafePath("http://h/v1/proxy/user_1/v0/meta/whoami")).toBe("/v1/proxy/user_1/v0/meta/whoami");
  });
});

describe("requestLog", () => {
  it("echoes a valid x-request-id and binds it to c.var.log (created lazily)", async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino(
      { level: "info", base: undefined },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line));
          done();
        },
      }),
    );
    const app = new Hono<AppEnv>();
    app.use("*", requestLog(logger));
    app.get("/x", (c) => {
      c.var.log.info({ step: "handler" }, "inside");
      return c.text("ok");
    });
    app.get("/quiet", (c) => c.text("ok"));
    const res = await app.request("/x", { headers: { "x-request-id": "req-123" } });
    expect(res.headers.get("x-request-id")).toBe("req-123");
    expect(lines.find((l) => l.step === "handler")).toMatchObject({ requestId: "req-123", msg: "inside" });
    expect(lines.find((l) => l.msg === "request")).toMatchObject({
      requestId: "req-123",
      path: "/x",
      status: 200,
    });
    const generated = await app.request("/quiet", { headers: { "x-request-id": "bad id with spaces" } });
    expect(generated.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe("requestLog and OAuth callback codes", () => {
  it("never writes a callback's code or state, on success, on failure, or through a handler's log", async () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: "trace",
      stream: new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString());
          done();
        },
      }),
    });
    const app = new Hono<AppEnv>();
    app.use("*", requestLog(logger));
    app.get("/oauth/callback", (c) => {
      c.var.log.info({ error: "invalid_grant", code: "invalid_grant" }, "callback refused");
      return c.req.query("fail") ? c.text("boom", 500) : c.text("ok");
    });
    const code = "AUTHCODE.abc123-SECRET-value";
    const state = "STATE-secret-xyz";
    await app.request(`/oauth/callback?code=${code}&state=${state}`);
    await app.request(`/oauth/callback?state=${state}&code=${encodeURIComponent(code)}&fail=1`);
    const text = lines.join("");
    expect(text).toContain("request failed");
    expect(text).toContain('"path":"/oauth/callback?code=%5Bredacted%5D&state=%5Bredacted%5D"');
    // Error codes are no longer blanked: only the secrets' values are gone.
    expect(text).toContain('"code":"invalid_grant"');
    expect(text).not.toContain("AUTHCODE");
    expect(text).not.toContain("STATE-secret");
  });
});

describe("requestHeader", () => {
  it("joins repeated headers like Headers#get, from the raw node header list", async () => {
    const app = new Hono();
    app.get("/", (c) =>
      c.json({ accept: requestHeader(c, "accept") ?? null, none: requestHeader(c, "x-none") ?? null }),
    );
    const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
    await new Promise<void>((resolve) => server.once("listening", () => resolve()));
    const { port } = server.address() as AddressInfo;
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const req = httpRequest(
          { host: "127.0.0.1", port, path: "/", headers: { accept: ["a/b", "c/d"] } },
          (res) => {
            let text = "";
            res.on("data", (chunk: Buffer) => {
              text += chunk.toString();
            });
            res.on("end", () => resolve(text));
          },
        );
        req.on("error", reject);
        req.end();
      });
      expect(JSON.parse(body)).toEqual({ accept: "a/b, c/d", none: null });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
