/**
 * The proxy's one retry after a dead connection, against a real local HTTP server that destroys
 * sockets: the keep-alive race (the upstream closed a socket as we reused it) must not surface as
 * 503 for a request that is safe to send again, and must never replay a non-idempotent one.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  SECRET_KEY,
  seedServiceConnection,
  startTestService,
  type TestService,
} from "../../test/security/harness.js";

interface Seen {
  method: string;
  url: string;
  socket: Socket;
  body: string;
}

/** What the upstream does with the n-th request (1-based): answer, or destroy the socket unanswered. */
type Plan = (n: number, req: IncomingMessage) => "answer" | "destroy";

describe("proxy retry after a reset connection", () => {
  let t: TestService;
  let server: Server;
  let url: string;
  const seen: Seen[] = [];
  let plan: Plan = () => "answer";

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        seen.push({
          method: req.method ?? "",
          url: req.url ?? "",
          socket: req.socket,
          body: Buffer.concat(chunks).toString(),
        });
        if (plan(seen.length, req) === "destroy") {
          req.socket.destroy();
          return;
        }
        const body = JSON.stringify({ ok: true, n: seen.length });
        res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
        res.end(body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    t = await startTestService({
      env: {
        AIRTABLE_CLIENT_ID: "client_retry",
        AIRTABLE_OAUTH_URL: url,
        AIRTABLE_API_URL: url,
        AIRLOCK_PROXY_TIMEOUT_MS: "2000",
      },
      start: { keepAlive: false },
    });
    await seedServiceConnection(t, "retry", "tok_retry");
  });
  beforeEach(() => {
    seen.length = 0;
    plan = () => "answer";
    t.logs.lines.length = 0;
  });
  afterAll(async () => {
    await t?.close();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
  });

  const proxy = (path: string, init: RequestInit = {}) =>
    fetch(`${t.url}/v1/proxy/retry${path}`, {
      ...init,
      headers: { authorization: `Bearer ${SECRET_KEY}`, ...(init.headers ?? {}) },
    });

  it("retries a GET once when the first connection is destroyed, and logs the cause code", async () => {
    plan = (n) => (n === 1 ? "destroy" : "answer");
    const res = await proxy("/v0/meta/whoami");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, n: 2 });
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual(["GET /v0/meta/whoami", "GET /v0/meta/whoami"]);
    const warning = t.logs.lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((l) => l.retrying);
    expect(warning).toMatchObject({ method: "GET", attempt: 1, retrying: true });
    expect(["UND_ERR_SOCKET", "ECONNRESET", "UND_ERR_CLOSED", "EPIPE"]).toContain(warning?.upstreamError);
    expect(t.logs.text()).not.toContain("tok_retry");
  });

  it("survives the keep-alive race: a reused socket closed by the upstream is retried on a new one", async () => {
    // Request 1 leaves a keep-alive socket in the pool; the upstream kills it when request 2 arrives.
    plan = (n) => (n === 2 ? "destroy" : "answer");
    expect((await proxy("/v0/meta/whoami")).status).toBe(200);
    const res = await proxy("/v0/meta/bases");
    expect(res.status).toBe(200);
    expect(seen).toHaveLength(3);
    expect(seen[1]?.socket).toBe(seen[0]?.socket);
    expect(seen[2]?.socket).not.toBe(seen[1]?.socket);
  });

  it("retries a buffered PUT (idempotent) with the same body", async () => {
    plan = (n) => (n === 1 ? "destroy" : "answer");
    const body = JSON.stringify({ fields: { Name: "A" } });
    const res = await proxy("/v0/appAAAAAAAAAAAAAA/Tasks/recAAAAAAAAAAAAAA", {
      method: "PUT",
      body,
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(200);
    expect(seen.map((s) => s.body)).toEqual([body, body]);
  });

  it("answers HEAD with the upstream's headers and no body (buffering skips bodiless answers)", async () => {
    const res = await proxy("/v0/meta/whoami", { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe(String(JSON.stringify({ ok: true, n: 1 }).length));
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(await res.text()).toBe("");
  });

  it("never replays a POST: answers 503 transient after one attempt", async () => {
    plan = () => "destroy";
    const res = await proxy("/v0/appAAAAAAAAAAAAAA/Tasks", {
      method: "POST",
      body: JSON.stringify({ records: [{ fields: { Name: "A" } }] }),
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("transient");
    expect(seen).toHaveLength(1);
  });

  it("retries only once: a second reset is answered 503 transient", async () => {
    plan = () => "destroy";
    const res = await proxy("/v0/meta/whoami");
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("transient");
    expect(seen).toHaveLength(2);
  });
});
