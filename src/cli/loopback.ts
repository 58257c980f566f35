/**
 * The login's loopback callback: a tiny HTTP server on 127.0.0.1 at the port and path of the
 * registered redirect URI. The first request to that path is handed to the login flow, which
 * answers the browser once the code exchange is done (so the page tells the truth). Anything else
 * (`/favicon.ico`, scanners, other paths) gets a 404 and changes nothing.
 */
import { createServer, type Server } from "node:http";
import { getRequestListener } from "@hono/node-server";
import { Hono } from "hono";
import { loopbackRedirect } from "../airtable/redirect-uri.js";
import { AirlockError } from "../shared/errors.js";
import { DEFAULT_CLI_REDIRECT_URI } from "./defaults.js";

/** Something worth saying about a redirect URI, with what to do about it. */
export interface Finding {
  message: string;
  fix: string;
}

/**
 * What `airlock login` makes of a redirect URI, and so what `airlock doctor` must say about it:
 * either the port and path its callback server listens on (with a warning for a port only an
 * administrator may open), or why it cannot receive the redirect at all. `level` is how doctor
 * marks the latter: an error for a local URI it cannot serve (https://localhost…), a warning for
 * another host (it may be the service's callback, usable with `airlock login --paste`).
 */
export type CallbackVerdict =
  | { receivable: true; port: number; path: string; note: Finding | undefined }
  | ({ receivable: false; level: "error" | "warn" } & Finding);

const USE_THE_DEFAULT = `register ${DEFAULT_CLI_REDIRECT_URI} with the integration and unset AIRTABLE_REDIRECT_URI (that is the default) or set it to that`;

/**
 * The one verdict on a redirect URI that login acts on and doctor reports.
 */
export function callbackVerdict(redirectUri: string): CallbackVerdict {
  const loopback = loopbackRedirect(redirectUri);
  if (!loopback) {
    let host = "";
    let https = false;
    try {
      const url = new URL(redirectUri);
      host = url.hostname.toLowerCase();
      https = url.protocol === "https:";
    } catch {
      // Not a URL: the configuration check reports it.
    }
    const local = host === "localhost" || host === "127.0.0.1" || host === "[::1]";
    return {
      receivable: false,
      level: local ? "error" : "warn",
      message: `AIRTABLE_REDIRECT_URI is ${redirectUri}: \`airlock login\` cannot receive that redirect itself (it listens with plain http on 127.0.0.1, so only http://localhost:PORT/… or http://127.0.0.1:PORT/… reach it${local && https ? "; a browser sent to https://localhost finds no TLS server there" : ""}).`,
      fix: `To log in with the CLI, ${USE_THE_DEFAULT}; or run \`airlock login --paste\` and paste the URL the browser lands on.`,
    };
  }
  const { port, path } = loopback;
  let note: Finding | undefined;
  if (!loopback.portGiven) {
    note = {
      message: `AIRTABLE_REDIRECT_URI ${redirectUri} has no port, so it means port 80: \`airlock login\` would have to listen on port 80, which only an administrator may open on most systems.`,
      fix: `Use the CLI's port instead: ${USE_THE_DEFAULT}.`,
    };
  } else if (port < 1024) {
    note = {
      message: `AIRTABLE_REDIRECT_URI ${redirectUri} uses port ${port}: ports below 1024 only an administrator may open on most systems.`,
      fix: `Use the CLI's port instead: ${USE_THE_DEFAULT}.`,
    };
  }
  return { receivable: true, port, path, note };
}

/** What the browser is told at the end. */
export interface CallbackPage {
  ok: boolean;
  title: string;
  message: string;
}

/** A request that reached the callback path; `respond` finishes the browser's page. */
export interface CallbackHit {
  url: URL;
  respond(page: CallbackPage): void;
}

export interface CallbackServer {
  /** The port actually bound. */
  readonly port: number;
  /** Resolves on the first request to the callback path. */
  readonly hit: Promise<CallbackHit>;
  /** Stops listening and drops open connections; resolves when the port is free. */
  close(): Promise<void>;
}

/**
 * Starts listening on 127.0.0.1:`port` for GET `path`. A port another program holds is a
 * `port_in_use` error; one this user may not open (EACCES, e.g. port 80) is `config_invalid` saying
 * so. Both name the port and the redirect URI.
 */
export async function startCallbackServer(options: {
  port: number;
  path: string;
  redirectUri: string;
}): Promise<CallbackServer> {
  let deliver!: (hit: CallbackHit) => void;
  const hit = new Promise<CallbackHit>((resolve) => {
    deliver = resolve;
  });
  let taken = false;

  const app = new Hono();
  app.get(options.path, (c) => {
    if (taken) {
      return c.html(
        page({
          ok: false,
          title: "Already handled",
          message: "This login already received its answer. Return to your terminal.",
        }),
        409,
      );
    }
    taken = true;
    return new Promise<Response>((resolve) => {
      deliver({
        url: new URL(c.req.url),
        respond: (result) => {
          resolve(
            c.html(page(result), result.ok ? 200 : 400, {
              // The socket closes after this page, so close() is not held up by keep-alive.
              connection: "close",
              "cache-control": "no-store",
              "referrer-policy": "no-referrer",
            }),
          );
        },
      });
    });
  });
  app.all("*", (c) => c.text("Not found", 404));

  const server = createServer(getRequestListener(app.fetch));
  await listen(server, options.port, options.redirectUri);
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  return {
    port,
    hit,
    close: () => closeServer(server),
  };
}

function listen(server: Server, port: number, redirectUri: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off("listening", onListening);
      if (error.code === "EADDRINUSE") {
        reject(
          new AirlockError(
            "port_in_use",
            `Port ${port} on 127.0.0.1 is in use by another program, so the login cannot receive the redirect to ${redirectUri}.`,
            {
              hint: `Stop the program using port ${port} (e.g. \`lsof -i :${port}\`), or use another port with \`airlock login --port N\` after registering http://localhost:N/callback with the integration (Airtable requires an exact match). Without a local port, use \`airlock login --paste\`.`,
              details: { port, reason: error.code },
            },
          ),
        );
      } else if (error.code === "EACCES") {
        // A permission problem, not a busy port: nobody else holds it, this user may not open it.
        const verdict = callbackVerdict(redirectUri);
        const note = verdict.receivable ? verdict.note : undefined;
        reject(
          new AirlockError(
            "config_invalid",
            `Port ${port} on 127.0.0.1 cannot be opened: permission denied${port < 1024 ? " (ports below 1024 need administrator rights)" : ""}, so the login cannot receive the redirect to ${redirectUri}.`,
            {
              hint: note
                ? `${note.message} ${note.fix}`
                : `Register another http://localhost:N/callback (N above 1023) with the integration and use \`airlock login --port N\`, or ${USE_THE_DEFAULT}. Without a local port, use \`airlock login --paste\`.`,
              details: { port, reason: error.code },
            },
          ),
        );
      } else {
        reject(error);
      }
    };
    const onListening = () => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, "127.0.0.1");
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    server.closeIdleConnections();
    // A browser holding a pending request or a keep-alive socket must not keep the port.
    setTimeout(() => server.closeAllConnections(), 1000).unref();
  });
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

function page(result: CallbackPage): string {
  const color = result.ok ? "#1a7f37" : "#cf222e";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Airlock: ${escapeHtml(result.title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1f2328}
h1{color:${color};font-size:1.5rem}</style></head>
<body><h1>${result.ok ? "✓" : "✗"} ${escapeHtml(result.title)}</h1><p>${escapeHtml(result.message)}</p>
<p>You can close this tab and return to your terminal.</p></body></html>`;
}
