/**
 * The server a multi-process test puts at the cluster's public URL when Airtable's pings must reach
 * every `airlock serve` instance at once: each `POST /airtable/notifications/…` is sent to all the
 * backends simultaneously (same path, body and X-Airtable-Content-MAC), as if a load balancer had
 * spread a burst of pings over every instance; every other request is relayed to the first backend,
 * so the connect flow, the OAuth callback and the API still work through the public URL.
 *
 * `hold()` queues the pings instead (the sender gets 204 at once, as from a slow network in
 * between) and `release()` fans the queued ones out together: a test decides when they land.
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { forwardable } from "./balancer.js";

/** The path prefix of Airtable's pings to the service. */
export const NOTIFICATION_PREFIX = "/airtable/notifications/";

/** One ping as the sender (the emulator) made it. */
export interface Ping {
  path: string;
  body: Buffer;
  /** Its X-Airtable-Content-MAC, as received (undefined when it had none). */
  mac: string | undefined;
  /** When the front received it (real time, ms). */
  receivedAt: number;
}

/** What one backend answered to one fanned-out ping: its HTTP status, or 0 with the network error. */
export interface BackendAnswer {
  backend: number;
  status: number;
  error?: string;
}

/** A ping and the answers of every backend it was sent to (empty while it is held). */
export interface FannedPing extends Ping {
  held: boolean;
  answers: BackendAnswer[];
}

export interface NotificationFront {
  /** `http://127.0.0.1:PORT`: the cluster's public URL. */
  readonly url: string;
  /** From now on, pings are queued (answered 204) instead of fanned out. */
  hold(): void;
  /** Fans out every queued ping at once and stops holding; resolves when every backend answered. */
  release(): Promise<FannedPing[]>;
  /** How many pings are queued. */
  heldCount(): number;
  /** Every ping received so far, oldest first, with the backends' answers once fanned out. */
  pings(): readonly FannedPing[];
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** Sends one ping to one backend; never throws (a dead instance is status 0). */
async function sendTo(backend: string, index: number, ping: Ping): Promise<BackendAnswer> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (ping.mac !== undefined) headers["x-airtable-content-mac"] = ping.mac;
  try {
    const response = await fetch(`${backend}${ping.path}`, {
      method: "POST",
      headers,
      body: ping.body,
      signal: AbortSignal.timeout(30_000),
    });
    await response.arrayBuffer();
    return { backend: index, status: response.status };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return { backend: index, status: 0, error: cause?.code ?? (error as Error).message };
  }
}

/** The status the sender gets for a fanned-out ping: 204 if any backend took it, else the first refusal. */
function senderStatus(answers: BackendAnswer[]): number {
  if (answers.some((a) => a.status >= 200 && a.status < 300)) return 204;
  return answers.find((a) => a.status !== 0)?.status ?? 502;
}

/** Relays a request to `backend` and its answer back, headers (cookies, Location) untouched. */
function relay(backend: URL, req: IncomingMessage, res: ServerResponse): void {
  const upstream = httpRequest(
    {
      host: backend.hostname,
      port: backend.port,
      method: req.method,
      path: req.url,
      headers: { ...forwardable(req.headers), host: backend.host },
    },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, forwardable(answer.headers));
      answer.pipe(res);
    },
  );
  upstream.on("error", (error) => {
    if (res.headersSent) res.destroy(error);
    else res.writeHead(502, { "content-type": "text/plain" }).end(`front: ${error.message}`);
  });
  req.pipe(upstream);
}

/**
 * Starts the front on 127.0.0.1 and a kernel-chosen port, in front of `backends` (instance URLs;
 * the first also gets every request that is not a ping).
 *
 * @example
 * const front = await startNotificationFront(cluster.instances.map((i) => i.url));
 * front.hold();
 * // … the emulator pings …
 * const fanned = await front.release(); // every queued ping, answered by every instance
 */
export async function startNotificationFront(backends: string[]): Promise<NotificationFront> {
  if (backends.length === 0) throw new Error("startNotificationFront: no backends");
  const first = new URL(backends[0]!);
  const log: FannedPing[] = [];
  let holding = false;
  let queue: FannedPing[] = [];

  const fanOut = async (ping: FannedPing): Promise<number> => {
    ping.held = false;
    ping.answers = await Promise.all(backends.map((backend, index) => sendTo(backend, index, ping)));
    return senderStatus(ping.answers);
  };

  const server = createServer((req, res) => {
    if (req.method !== "POST" || !req.url?.startsWith(NOTIFICATION_PREFIX)) {
      relay(first, req, res);
      return;
    }
    void (async () => {
      const body = await readBody(req);
      const mac = req.headers["x-airtable-content-mac"];
      const ping: FannedPing = {
        path: req.url!,
        body,
        mac: Array.isArray(mac) ? mac[0] : mac,
        receivedAt: Date.now(),
        held: holding,
        answers: [],
      };
      log.push(ping);
      if (holding) {
        queue.push(ping);
        res.writeHead(204).end();
        return;
      }
      res.writeHead(await fanOut(ping)).end();
    })().catch((error: Error) => {
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" }).end(error.message);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    hold() {
      holding = true;
    },
    async release() {
      holding = false;
      const released = queue;
      queue = [];
      await Promise.all(released.map(fanOut));
      return released;
    },
    heldCount: () => queue.length,
    pings: () => log,
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
