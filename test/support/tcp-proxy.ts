/**
 * A TCP forwarder a test can cut: point a store at it, then `stop()` to make the database vanish
 * for that store alone (open connections reset, new ones refused) without touching the shared
 * PostgreSQL server, and `start()` to bring it back on the same port.
 */
import { connect, createServer, type Server, type Socket } from "node:net";
import { freePort } from "./ports.js";

export interface TcpProxy {
  readonly port: number;
  /** `url` with its host and port replaced by the proxy's. */
  via(url: string): string;
  /** Resets every forwarded connection and stops listening (connections are then refused). */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  start(): Promise<void>;
}

/**
 * @example
 * const proxy = await startTcpProxy("127.0.0.1", 5432);
 * const store = await openStore(proxy.via(TEST_DATABASE_URL), { keyring });
 * await proxy.stop(); // PostgreSQL is "down" for this store
 */
export async function startTcpProxy(host: string, port: number): Promise<TcpProxy> {
  const listenPort = await freePort();
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => socket.destroy());
  };
  const start = () =>
    new Promise<void>((resolve, reject) => {
      const next = createServer((client) => {
        const upstream = connect(port, host);
        track(client);
        track(upstream);
        client.pipe(upstream);
        upstream.pipe(client);
        client.on("close", () => upstream.destroy());
        upstream.on("close", () => client.destroy());
      });
      next.once("error", reject);
      next.listen(listenPort, "127.0.0.1", () => {
        server = next;
        resolve();
      });
    });
  await start();
  return {
    port: listenPort,
    via(url) {
      const parsed = new URL(url);
      parsed.hostname = "127.0.0.1";
      parsed.port = String(listenPort);
      return parsed.href;
    },
    async stop() {
      const closing = server;
      server = null;
      for (const socket of sockets) socket.resetAndDestroy();
      sockets.clear();
      if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()));
    },
    start,
  };
}
