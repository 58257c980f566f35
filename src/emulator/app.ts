import { Hono } from "hono";
import { apiRoutes } from "./api.js";
import { authorizeRoutes } from "./authorize.js";
import type { EmulatorOptions } from "./config.js";
import { errorPage, indexPage } from "./consent-page.js";
import { controlRoutes } from "./control.js";
import { EmulatorState } from "./state.js";
import { tokenRoutes } from "./token.js";

/** The Hono app and the state it serves (tests reach into `state` for clock, stats and data). */
export interface EmulatorApp {
  app: Hono;
  state: EmulatorState;
}

/**
 * Builds the emulator as a Hono app without listening: OAuth server, Web API and control API.
 *
 * @example
 * const { app, state } = createEmulatorApp({ autoApprove: true });
 * const res = await app.request("/__emulator/stats");
 */
export function createEmulatorApp(options: EmulatorOptions = {}): EmulatorApp {
  const state = new EmulatorState(options);
  const app = new Hono();
  const others = state.config.integrations.slice(1).map((i) => i.clientId);
  app.get("/", (c) => c.html(indexPage(new URL(c.req.url).origin, state.config.clientId, others)));
  app.route("/", controlRoutes(state));
  app.route("/", authorizeRoutes(state));
  app.route("/", tokenRoutes(state));
  app.route("/", apiRoutes(state));
  app.notFound((c) => c.html(errorPage("Not found", `Nothing at ${c.req.path}.`), 404));
  app.onError((err, c) => {
    // Never echo request data: it may hold a code, a token or a secret.
    void err;
    return c.json({ error: "server_error", error_description: "The emulator hit an internal error." }, 500);
  });
  return { app, state };
}
