import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { isAirlockError } from "../shared/errors.js";
import { type CallbackServer, startCallbackServer } from "./loopback.js";

let server: CallbackServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const start = (port = 0) =>
  startCallbackServer({ port, path: "/callback", redirectUri: `http://localhost:${port}/callback` });

describe("startCallbackServer", () => {
  it("hands the first callback request to the flow and answers with its page", async () => {
    server = await start();
    const base = `http://127.0.0.1:${server.port}`;
    const response = fetch(`${base}/callback?code=c&state=s`);
    const hit = await server.hit;
    expect(hit.url.searchParams.get("code")).toBe("c");
    hit.respond({ ok: true, title: "Logged <in>", message: "done & dusted" });
    const answer = await response;
    expect(answer.status).toBe(200);
    expect(answer.headers.get("cache-control")).toBe("no-store");
    const html = await answer.text();
    expect(html).toContain("Logged &#60;in&#62;");
    expect(html).toContain("done &#38; dusted");
    // A second hit (reload) does not reach the flow again.
    expect((await fetch(`${base}/callback?code=c2&state=s`)).status).toBe(409);
  });

  it("answers failures with 400", async () => {
    server = await start();
    const response = fetch(`http://127.0.0.1:${server.port}/callback?error=access_denied`);
    (await server.hit).respond({ ok: false, title: "No", message: "denied" });
    expect((await response).status).toBe(400);
  });

  it("404s every other path and method without resolving the hit", async () => {
    server = await start();
    const base = `http://127.0.0.1:${server.port}`;
    let resolved = false;
    void server.hit.then(() => {
      resolved = true;
    });
    for (const [path, method] of [
      ["/favicon.ico", "GET"],
      ["/", "GET"],
      ["/callbackx", "GET"],
      ["/callback", "POST"],
    ] as const) {
      expect((await fetch(`${base}${path}`, { method })).status).toBe(404);
    }
    expect(resolved).toBe(false);
  });

  it("reports a busy port as port_in_use naming the port and the redirect URI", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const error = await start(port).catch((e: unknown) => e);
      expect(isAirlockError(error, "port_in_use")).toBe(true);
      expect((error as Error).message).toContain(`Port ${port}`);
      expect((error as Error).message).toContain(`http://localhost:${port}/callback`);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it("frees the port on close, even with a request still pending", async () => {
    server = await start();
    const port = server.port;
    const pending = fetch(`http://127.0.0.1:${port}/callback?code=c&state=s`).catch(() => "dropped");
    await server.hit;
    await server.close();
    server = undefined;
    expect(await pending).toBe("dropped");
    const again = createServer();
    await new Promise<void>((resolve) => again.listen(port, "127.0.0.1", resolve));
    await new Promise((resolve) => again.close(resolve));
  });
});
