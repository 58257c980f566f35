/**
 * A tiny HTTP load balancer inside the test process, in front of several `airlock serve` instances,
 * behaving like nginx with `proxy_next_upstream error`: round-robin over the backends, and a request
 * moves on to the next backend only when it certainly never reached one, i.e. the connect failed
 * (ECONNREFUSED: the instance is down) or a reused idle keep-alive socket was reset before any
 * response byte (the instance closed it while shutting down). Once a response has started it is
 * relayed as is, never retried: a broken answer reaches the client as a broken answer.
 *
 * Keep-alive sockets to each backend come from one `http.Agent` per backend, so "reused" is known
 * (`request.reusedSocket`), as Node's docs recommend for exactly this retry.
 */
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";

/** Connection-scoped headers that a proxy must not forward (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** The headers a proxy passes on: all but the hop-by-hop ones. */
export function forwardable(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

export interface BalancerStats {
  /** Attempts sent to each backend (index as given), including those that failed and moved on. */
  requests: number[];
  /** Attempts that moved on to the next backend. */
  retries: number;
  /** Requests answered 502 because no backend could take them. */
  failures: number;
  /** The error codes that caused the retries, e.g. `{ECONNREFUSED: 3}`. */
  retryCauses: Record<string, number>;
}

export interface Balancer {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  stats(): BalancerStats;
  close(): Promise<void>;
}

type Attempt =
  | { kind: "answered" }
  | { kind: "next"; code: string }
  | { kind: "failed"; error: Error; started: boolean };

/**
 * Starts the balancer on 127.0.0.1 and a kernel-chosen port.
 *
 * @example
 * const lb = await startBalancer(cluster.instances.map((i) => i.url));
 * await fetch(`${lb.url}/v1/proxy/user_1/v0/meta/whoami`, { headers });
 * lb.stats(); // { requests: [5, 5, 5], retries: 1, failures: 0, retryCauses: { ECONNREFUSED: 1 } }
 * await lb.close();
 */
export async function startBalancer(backends: string[]): Promise<Balancer> {
  if (backends.length === 0) throw new Error("startBalancer: no backends");
  const targets = backends.map((backend) => new URL(backend));
  const agents = targets.map(() => new Agent({ keepAlive: true, maxSockets: 64 }));
  const stats: BalancerStats = {
    requests: targets.map(() => 0),
    retries: 0,
    failures: 0,
    retryCauses: {},
  };
  let next = 0;

  const attempt = (index: number, incoming: IncomingMessage, body: Buffer, res: ServerResponse) =>
    new Promise<Attempt>((resolve) => {
      const target = targets[index]!;
      stats.requests[index]!++;
      const headers = forwardable(incoming.headers);
      headers["content-length"] = String(body.length);
      const upstream = httpRequest({
        agent: agents[index]!,
        host: target.hostname,
        port: target.port,
        method: incoming.method ?? "GET",
        path: incoming.url ?? "/",
        headers,
      });
      let responded = false;
      upstream.on("response", (answer) => {
        responded = true;
        res.writeHead(answer.statusCode ?? 502, forwardable(answer.headers));
        answer.on("data", (chunk: Buffer) => res.write(chunk));
        answer.on("end", () => {
          res.end();
          resolve({ kind: "answered" });
        });
        // The answer broke mid-way: the client must see a broken answer, not a retry.
        answer.on("error", (error) => resolve({ kind: "failed", error, started: true }));
        answer.on("aborted", () =>
          resolve({ kind: "failed", error: new Error("upstream aborted the answer"), started: true }),
        );
      });
      upstream.on("error", (error: NodeJS.ErrnoException) => {
        if (responded) {
          resolve({ kind: "failed", error, started: true });
          return;
        }
        const code = error.code ?? "UNKNOWN";
        const neverReached =
          code === "ECONNREFUSED" || (upstream.reusedSocket && (code === "ECONNRESET" || code === "EPIPE"));
        resolve(neverReached ? { kind: "next", code } : { kind: "failed", error, started: false });
      });
      upstream.end(body);
    });

  const server = createServer((incoming, res) => {
    const chunks: Buffer[] = [];
    incoming.on("data", (chunk: Buffer) => chunks.push(chunk));
    incoming.on("end", async () => {
      const body = Buffer.concat(chunks);
      const first = next++ % targets.length;
      for (let tried = 0; tried < targets.length; tried++) {
        const outcome = await attempt((first + tried) % targets.length, incoming, body, res);
        if (outcome.kind === "answered") return;
        if (outcome.kind === "failed") {
          if (outcome.started) {
            res.destroy(outcome.error);
          } else {
            stats.failures++;
            res.writeHead(502, { "content-type": "text/plain" }).end(`bad gateway: ${outcome.error.message}`);
          }
          return;
        }
        stats.retries++;
        stats.retryCauses[outcome.code] = (stats.retryCauses[outcome.code] ?? 0) + 1;
      }
      stats.failures++;
      res.writeHead(502, { "content-type": "text/plain" }).end("bad gateway: no backend took the request");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    stats: () => ({ ...stats, requests: [...stats.requests], retryCauses: { ...stats.retryCauses } }),
    async close() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      for (const agent of agents) agent.destroy();
    },
  };
}
