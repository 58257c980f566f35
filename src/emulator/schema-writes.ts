/**
 * Schema writes under `schema.bases:write`: create and update tables and fields.
 */
import type { Hono } from "hono";
import type { ApiEnv } from "./api-context.js";
import type { EmulatorState } from "./state.js";

/** Registers the schema write routes on the /v0 app. */
export function schemaWriteRoutes(routes: Hono<ApiEnv>, state: EmulatorState): void {
  void routes;
  void state;
}
