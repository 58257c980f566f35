/**
 * Slow clients against the service's HTTP server (raw `net` sockets): connections that send their
 * headers a byte at a time and never finish, that connect and say nothing, or that trickle a body,
 * are closed after the header/request timeouts, idle keep-alive connections after the keep-alive
 * timeout, connections beyond AIRLOCK_HTTP_MAX_CONNECTIONS are refused, and new clients are served
 * throughout. No tight timing: the assertions are "closed" and "answered".
 */
import { connect as netConnect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { SECRET_KEY, startTestService, type TestService } from "./security/harness.js";

interface Slow {
  socket: Socket;
  closed: Promise<void>;
  isClosed(): boolean;
  /** What the server sent before closing (a 408, or nothing). */
  received(): string;
  stop(): void;
}

/** A socket that sends `prefix`, then one byte of `drip` every `everyMs`, forever. */
function slowClient(url: string, prefix: string, drip = "a", everyMs = 200): Promise<Slow> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = netConnect({
      host: hostname === "localhost" ? "127.0.0.1" : hostname,
      port: Number(port),
    });
    let received = "";
    let closed = false;
    let timer: NodeJS.Timeout | undefined;
    const done = new Promise<void>((r) =>
      socket.on("close", () => {
        closed = true;
        clearInterval(timer);
        r();
      }),
    );
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("utf8");
    });
    socket.on("error", () => undefined);
    socket.once("connect", () => {
      if (prefix) socket.write(prefix);
      if (drip) {
        timer = setInterval(() => {
          if (!socket.destroyed) socket.write(drip);
        }, everyMs);
      }
      resolve({
        socket,
        closed: done,
        isClosed: () => closed,
        received: () => received,
        stop: () => {
          clearInterval(timer);
          socket.destroy();
        },
      });
    });
    socket.once("error", reject);
  });
}

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still open after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function healthy(t: TestService): Promise<number> {
  const res = await fetch(`${t.url}/healthz`, { headers: { connection: "close" } });
  await res.arrayBuffer();
  return res.status;
}

describe("slow clients", () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it("with the defaults, half-sent headers and silent connections are closed long before Node's ~70 s, and others are served meanwhile", {
    timeout: 60_000,
  }, async () => {
    const t = await startTestService();
    cleanup.push(() => t.close());
    const slow: Slow[] = [];
    for (let i = 0; i < 20; i++) {
      slow.push(await slowClient(t.url, `GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow-${i}: `));
    }
    for (let i = 0; i < 10; i++) slow.push(await slowClient(t.url, "", ""));
    cleanup.push(() => {
      for (const s of slow) s.stop();
    });

    // New clients are answered while the slow ones hang on.
    expect(await healthy(t)).toBe(200);
    await new Promise((r) => setTimeout(r, 1000));
    expect(slow.filter((s) => s.isClosed())).toHaveLength(0);
    expect(await healthy(t)).toBe(200);

    // Default header timeout 10 s (checked every second); Node's own would hold them 60–90 s.
    await within(Promise.all(slow.map((s) => s.closed)), 40_000, "slow-header sockets");
    expect(slow.filter((s) => s.received().includes("408")).length).toBeGreaterThan(0);
    expect(await healthy(t)).toBe(200);
  });

  it("AIRLOCK_HTTP_* settings: a trickled body hits the request timeout, an idle keep-alive connection the keep-alive timeout", async () => {
    const t = await startTestService({
      env: {
        AIRLOCK_HTTP_HEADERS_TIMEOUT_SECONDS: "1",
        AIRLOCK_HTTP_REQUEST_TIMEOUT_SECONDS: "2",
        AIRLOCK_HTTP_KEEPALIVE_TIMEOUT_SECONDS: "1",
      },
    });
    cleanup.push(() => t.close());
    const body = JSON.stringify({ identifier: "slow_body_user" });
    const trickle = await slowClient(
      t.url,
      `POST /v1/connect-sessions HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${SECRET_KEY}\r\nContent-Type: application/json\r\nContent-Length: ${body.length + 100}\r\n\r\n${body}`,
      " ",
      100,
    );
    const idle = await slowClient(t.url, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n", "");
    cleanup.push(() => {
      trickle.stop();
      idle.stop();
    });

    await within(idle.closed, 15_000, "an idle keep-alive connection");
    expect(idle.received()).toMatch(/^HTTP\/1\.1 200/);
    await within(trickle.closed, 15_000, "a trickled request body");
    expect(trickle.received()).not.toMatch(/^HTTP\/1\.1 201/);
    expect(await healthy(t)).toBe(200);
  });

  it("AIRLOCK_HTTP_MAX_CONNECTIONS: connections beyond the cap are closed at once; once the slow ones time out, clients are served again", async () => {
    const t = await startTestService({
      env: { AIRLOCK_HTTP_MAX_CONNECTIONS: "10", AIRLOCK_HTTP_HEADERS_TIMEOUT_SECONDS: "2" },
    });
    cleanup.push(() => t.close());
    const slow: Slow[] = [];
    for (let i = 0; i < 10; i++) slow.push(await slowClient(t.url, "GET / HTTP/1.1\r\n"));
    cleanup.push(() => {
      for (const s of slow) s.stop();
    });
    await new Promise((r) => setTimeout(r, 100));

    const extra = await slowClient(t.url, "", "");
    cleanup.push(() => extra.stop());
    await within(extra.closed, 5_000, "a connection beyond the cap");
    expect(extra.received()).toBe("");

    await within(Promise.all(slow.map((s) => s.closed)), 15_000, "slow-header sockets");
    expect(await healthy(t)).toBe(200);
  });
});
