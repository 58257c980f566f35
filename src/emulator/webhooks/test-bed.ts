/**
 * What the webhook tests share: an emulator over real HTTP (with the control ping route mounted),
 * a ping receiver, and a JSON request helper. Test-only.
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { z } from "zod";
import { createEmulatorApp } from "../app.js";
import type { EmulatorState } from "../state.js";
import { webhookControlRoutes } from "../webhooks.js";

export interface TestEmulator {
  url: string;
  state: EmulatorState;
  close(): Promise<void>;
}

function portOf(address: AddressInfo | string | null): number {
  if (address === null || typeof address === "string") throw new Error("not listening on TCP");
  return address.port;
}

/**
 * The emulator app behind the control ping route (control.ts does not mount it yet), listening on
 * a free port.
 */
export async function startTestEmulator(): Promise<TestEmulator> {
  // Tokens outlive the weeks the tests move the clock by.
  const { app, state } = createEmulatorApp({ autoApprove: true, accessTokenTtl: 10 * 365 * 86_400 });
  const outer = new Hono();
  const control = new Hono();
  webhookControlRoutes(control, state);
  outer.route("/__emulator", control);
  outer.route("/", app);
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: outer.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s));
  });
  const url = `http://127.0.0.1:${portOf(server.address())}`;
  const close = () =>
    new Promise<void>((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      if ("closeAllConnections" in server) server.closeAllConnections();
    });
  return { url, state, close };
}

const jsonObject = z.record(z.string(), z.unknown());

/**
 * A JSON request with a bearer token. The emulator clock moves a second first, so no test trips
 * the 5 requests per second per base limit by accident.
 */
export async function call(
  emulator: TestEmulator,
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  emulator.state.clock.advance(1);
  const res = await fetch(new URL(path, emulator.url), {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, json: jsonObject.parse(await res.json()) };
}

export interface ReceivedPing {
  headers: IncomingHttpHeaders;
  rawBody: string;
}

export interface PingReceiver {
  url: string;
  pings: ReceivedPing[];
  /** The status the receiver answers with from now on (default 204). */
  answer(status: number): void;
  close(): Promise<void>;
}

/** An HTTP server that records every request it gets. */
export async function startReceiver(): Promise<PingReceiver> {
  const pings: ReceivedPing[] = [];
  let status = 204;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      pings.push({ headers: req.headers, rawBody: Buffer.concat(chunks).toString("utf8") });
      res.statusCode = status;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${portOf(server.address())}/ping`,
    pings,
    answer: (next) => {
      status = next;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
