/**
 * `GET /connect.js`: the built `airlock/connect` browser module, served by the service itself, so a
 * plain HTML page can `import { connect } from "https://airlock.example.com/connect.js"` with no
 * bundler. It is a script any origin may load (CORS `*`, `Cross-Origin-Resource-Policy:
 * cross-origin`): it holds no secret, and what it trusts is checked inside it (the message's origin
 * and source).
 */
import { readFileSync } from "node:fs";
import type { Context } from "hono";

/** Where the module is served. */
export const CONNECT_MODULE_PATH = "/connect.js";

/**
 * The built module beside this file's (`dist/connect/index.js` from `dist/server/`), or, when the
 * service runs from its sources (tests), the one `npm run build` left in `dist/`. Its source-map
 * comment is dropped: the map is not served.
 */
const CANDIDATES = ["../connect/index.js", "../../dist/connect/index.js"];

let cached: string | null | undefined;

function loadModule(): string | null {
  if (cached !== undefined) return cached;
  cached = null;
  for (const candidate of CANDIDATES) {
    try {
      cached = readFileSync(new URL(candidate, import.meta.url), "utf8").replace(
        /\n\/\/# sourceMappingURL=\S*\s*$/,
        "\n",
      );
      break;
    } catch {
      // Not there: try the next place.
    }
  }
  return cached;
}

/**
 * The `GET /connect.js` handler.
 *
 * @example
 * app.get(CONNECT_MODULE_PATH, connectModule);
 */
export function connectModule(c: Context): Response {
  const module = loadModule();
  if (module === null) {
    return c.text(
      "airlock/connect is not built: run `npm run build` (the module is served from dist/connect/index.js).",
      503,
    );
  }
  c.header("Access-Control-Allow-Origin", "*");
  c.header("Cross-Origin-Resource-Policy", "cross-origin");
  c.header("Cache-Control", "public, max-age=3600");
  return c.body(module, 200, { "Content-Type": "text/javascript; charset=utf-8" });
}
