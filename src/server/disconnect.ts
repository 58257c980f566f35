import type { RevokeOutcome } from "../store/types.js";
import type { ServiceContext } from "./context.js";

/** The `status_reason` of a connection that was disconnected through the API or the dashboard. */
export const DISCONNECTED_REASON = "disconnected";

/**
 * Disconnects: the connection stays, as `revoked` (reason `disconnected`) with its tokens erased and
 * its event history kept, and this process's cached token is dropped, so the proxy and the
 * access-token API answer 409 at once (other instances see the version move). A new connect link
 * for the same identifier reactivates it. Shared by the API's DELETE and the dashboard's Disconnect.
 *
 * Airtable has no revocation endpoint: the user still sees the integration in their Airtable
 * account until they remove it there.
 */
export async function disconnect(
  ctx: ServiceContext,
  identifier: string,
  source: "api" | "dashboard",
): Promise<RevokeOutcome> {
  const outcome = await ctx.store.revokeConnection(
    identifier,
    { reason: DISCONNECTED_REASON, now: ctx.now() },
    { type: "connection.deleted", data: { source } },
  );
  ctx.tokens.invalidate(identifier);
  return outcome;
}
