import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { createEmulatorApp } from "./app.js";
import type { EmulatorOptions } from "./config.js";
import type { EmulatorStats } from "./stats.js";

export { createEmulatorApp, type EmulatorApp } from "./app.js";
export {
  DEFAULT_CLIENT_ID,
  type EmulatorConfig,
  type EmulatorIntegration,
  type EmulatorIntegrationOptions,
  type EmulatorOptions,
  findIntegration,
  resolveConfig,
} from "./config.js";
export { CONSENT_FIELDS, DECISION_PATH } from "./consent-page.js";
export type { EmulatorState } from "./state.js";
export { STATE_FILE_VERSION, type StateFile } from "./state-file.js";
export type { EmulatorStats } from "./stats.js";
export { loginAutoApproved } from "./testing.js";

/** A listening emulator. */
export interface RunningEmulator {
  /** Base URL, e.g. `http://127.0.0.1:49152` (serves /oauth2/v1/*, /v0/* and /__emulator/*). */
  url: string;
  port: number;
  /** A copy of the counters. */
  stats(): EmulatorStats;
  /** Moves the emulator clock forward. */
  advanceClock(seconds: number): void;
  /** Stops listening, drops open connections, then saves the state file (when there is one). */
  close(): Promise<void>;
}

/** The port a TCP listener is bound to (`address()` is a string only for a pipe, null before listening). */
function listeningPort(address: AddressInfo | string | null): number {
  if (address === null || typeof address === "string")
    throw new Error(`The emulator is not listening on a TCP port (address ${JSON.stringify(address)}).`);
  return address.port;
}

/**
 * Starts the emulator on `host:port` (default 127.0.0.1 and a random free port). With `stateFile`,
 * it first loads that file (if present) and writes it once, so a damaged or unwritable file fails
 * here with AirlockError("config_invalid") rather than later.
 *
 * @example
 * const emulator = await startEmulator({ clientId: "abc", autoApprove: true, stateFile: ".airlock/emulator.json" });
 * // AIRTABLE_OAUTH_URL=emulator.url AIRTABLE_API_URL=emulator.url
 * emulator.advanceClock(61 * 60);
 * await emulator.close();
 *
 * @example
 * // Two integrations: "app-a" (confidential, the top-level fields) and "app-b" (public).
 * const two = await startEmulator({
 *   clientId: "app-a",
 *   clientSecret: "secret-a",
 *   integrations: [{ clientId: "app-b", redirectUris: ["http://localhost:9000/cb"], name: "App B" }],
 * });
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const { app, state } = createEmulatorApp(options);
  await state.saveState();
  const { host, port: wanted } = state.config;
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: host, port: wanted }, () => resolve(s));
    s.once("error", reject);
  });
  const port = listeningPort(server.address());
  const urlHost = host.includes(":") ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    stats: () => ({ ...state.stats }),
    advanceClock: (seconds) => state.clock.advance(seconds),
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        if ("closeAllConnections" in server) server.closeAllConnections();
      }).then(() => state.saveState());
      return closing;
    },
  };
}
