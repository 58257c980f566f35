/**
 * What the webhook tests share: an emulator over real HTTP, a ping receiver, and a JSON request
 * helper that keeps clear of the per-base rate limit. Test-only.
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { type ServedEmulator, send, serveEmulator } from "../test-support.js";

export type TestEmulator = ServedEmulator;

function portOf(address: AddressInfo | string | null): number {
  if (address === null || typeof address === "string") throw new Error("not listening on TCP");
  return address.port;
}

/** An auto-approving emulator whose tokens outlive the weeks the tests move the clock by. */
export function startTestEmulator(): Promise<TestEmulator> {
  return serveEmulator({ autoApprove: true, accessTokenTtl: 10 * 365 * 86_400 });
}

/**
 * A JSON request with a bearer token. The emulator clock moves a second first, so no test trips
 * the 5 requests per second per base limit by accident.
 */
export function call(
  emulator: TestEmulator,
  method: string,
  path: string,
  token: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  emulator.state.clock.advance(1);
  return send(emulator.url, method, path, token, body);
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
