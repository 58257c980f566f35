/**
 * A tiny real HTTP server for tests: records every request and answers with crafted responses,
 * including a dropped connection and a response that never comes. Not part of the public API.
 */
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

/** What the server received. */
export interface RecordedRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** What to answer; `drop` destroys the socket (a network error), `hang` never answers. */
export type CraftedResponse =
  | { status: number; headers?: Record<string, string>; body?: unknown }
  | { drop: true }
  | { hang: true };

/** A running recording server. */
export interface RecordingServer {
  url: string;
  /** Every request so far, in arrival order (tests may clear it with `length = 0`). */
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/**
 * Starts the server on 127.0.0.1 and a random port.
 *
 * @example
 * const server = await startRecordingServer(() => ({ status: 200, body: { ok: true } }));
 * await fetch(`${server.url}/x`);
 * server.requests[0]?.method; // "GET"
 * await server.close();
 */
export async function startRecordingServer(
  handler: (request: RecordedRequest, index: number) => CraftedResponse | Promise<CraftedResponse>,
): Promise<RecordingServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", async () => {
      const recorded: RecordedRequest = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      requests.push(recorded);
      const answer = await handler(recorded, requests.length - 1);
      if ("drop" in answer) {
        req.socket.destroy();
        return;
      }
      if ("hang" in answer) return;
      const text =
        answer.body === undefined
          ? ""
          : typeof answer.body === "string"
            ? answer.body
            : JSON.stringify(answer.body);
      res.writeHead(answer.status, {
        ...(typeof answer.body === "object" ? { "content-type": "application/json" } : {}),
        ...answer.headers,
      });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
