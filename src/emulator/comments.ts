/**
 * Record comments under `data.recordComments:read` / `data.recordComments:write`.
 */
import type { Hono } from "hono";
import type { ApiEnv } from "./api-context.js";
import type { EmulatorState } from "./state.js";

/** Registers the record comment routes on the /v0 app. */
export function commentRoutes(routes: Hono<ApiEnv>, state: EmulatorState): void {
  void routes;
  void state;
}
