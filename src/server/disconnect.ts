import type { ServiceContext } from "./context.js";

/**
 * Forgets a connection's tokens (the event history stays) and drops this process's cached token, so
 * the proxy stops using it at once. Shared by the API's DELETE and the dashboard's Disconnect.
 *
 * @example
 * if (!(await disconnect(ctx, "user_123", "api"))) throw notFound("user_123");
 */
export async function disconnect(
  ctx: ServiceContext,
  identifier: string,
  source: "api" | "dashboard",
): Promise<boolean> {
  const deleted = await ctx.store.deleteConnection(identifier, {
    type: "connection.deleted",
    data: { source },
  });
  ctx.tokens.invalidate(identifier);
  return deleted;
}
