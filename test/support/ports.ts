/**
 * Ports for processes that must know their port before they bind it (a CLI's registered callback
 * URI, an `airlock serve` instance's public URL).
 *
 * Picked below Linux's ephemeral range (32768–60999): a port the kernel handed out for `listen(0)`
 * and that we then closed goes back into the pool that outgoing connections draw their source ports
 * from, so on a busy machine another test's HTTP client could take it before our process binds it.
 */
import { createServer } from "node:net";

const LOW = 20_000;
const HIGH = 32_000;

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/**
 * A port nothing listened on a moment ago, outside the ephemeral range.
 *
 * @example
 * const port = await freePort();
 * const redirectUri = `http://localhost:${port}/callback`;
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port found between ${LOW} and ${HIGH}`);
}
