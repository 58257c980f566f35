/**
 * Connect sessions: the one-time link an app hands its end user ("Connect your Airtable"). The
 * token is random, shown once, stored only as a hash, single use, and expires after 30 minutes.
 */
import { parseScopes } from "../airtable/scopes.js";
import { AirlockError, isAirlockError } from "../shared/errors.js";
import { DEFAULT_INTEGRATION } from "../store/index.js";
import type { ServiceContext } from "./context.js";
import { checkExpectedEmail } from "./expected-email.js";
import { checkMetadata } from "./metadata.js";
import { hashSecret, randomToken } from "./secrets.js";
import { assertIdentifier, checkReturnUrl } from "./validation.js";

/** How long a connect link stays usable. */
export const CONNECT_SESSION_TTL_MS = 30 * 60 * 1000;

export interface CreateConnectSessionInput {
  identifier: string;
  /** A subset of the integration's scopes (AIRTABLE_SCOPES); default all of them. */
  scopes?: string[] | undefined;
  /** Where the browser goes after the flow; must be on an allowed origin. */
  returnUrl?: string | undefined;
  /**
   * A JSON object for the connection (see metadata.ts); null or absent: none, and a reconnect keeps
   * the connection's own.
   */
  metadata?: unknown;
  /**
   * The email of the Airtable account that must consent (case-insensitive); another account's
   * consent connects nothing. Needs the `user.email:read` scope.
   */
  expectedEmail?: string | null | undefined;
}

export interface CreatedConnectSession {
  /** The one-time token (only ever returned here). */
  token: string;
  /** `$AIRLOCK_PUBLIC_URL/connect/<token>`: open it in the end user's browser. */
  url: string;
  /** ISO 8601. */
  expires_at: string;
}

function resolveScopes(ctx: ServiceContext, requested: string[] | undefined): string[] {
  const configured = ctx.integration.scopes;
  if (requested === undefined || requested.length === 0) return [...configured];
  let scopes: string[];
  try {
    scopes = parseScopes(requested);
  } catch (error) {
    if (isAirlockError(error)) throw new AirlockError("invalid_input", error.message, { hint: error.hint });
    throw error;
  }
  const missing = scopes.filter((s) => !configured.includes(s));
  if (missing.length > 0 && ctx.integration.id === DEFAULT_INTEGRATION) {
    throw new AirlockError("invalid_input", `Scopes not enabled for this service: ${missing.join(", ")}.`, {
      hint: `Request a subset of AIRTABLE_SCOPES (${configured.join(" ")}), or add the scope to AIRTABLE_SCOPES and to the integration.`,
    });
  }
  if (missing.length > 0) {
    throw new AirlockError(
      "invalid_input",
      `Scopes not enabled for the integration "${ctx.integration.id}": ${missing.join(", ")}.`,
      {
        hint: `Request a subset of its scopes (${configured.join(" ")}), or add the scope to its entry in AIRLOCK_INTEGRATIONS_FILE and to the integration on Airtable.`,
      },
    );
  }
  return scopes;
}

/**
 * Creates a connect session and returns its link. Throws `invalid_input` for a bad identifier,
 * unknown or not-enabled scopes, a `return_url` outside the allowed origins, metadata over its
 * limits, or an `expected_email` that is malformed or lacks the `user.email:read` scope.
 */
export async function createConnectSession(
  ctx: ServiceContext,
  input: CreateConnectSessionInput,
): Promise<CreatedConnectSession> {
  assertIdentifier(input.identifier);
  const scopes = resolveScopes(ctx, input.scopes);
  const returnUrl = input.returnUrl === undefined ? null : checkReturnUrl(input.returnUrl, ctx.config);
  const metadata = checkMetadata(input.metadata);
  const explicitScopes = input.scopes !== undefined && input.scopes.length > 0;
  const expectedEmail = checkExpectedEmail(input.expectedEmail, scopes, explicitScopes);
  const token = randomToken();
  const expiresAt = new Date(ctx.now().getTime() + CONNECT_SESSION_TTL_MS);
  await ctx.store.createConnectSession({
    tokenHash: hashSecret(token),
    identifier: input.identifier,
    scopes,
    returnUrl,
    expiresAt,
    metadata,
    expectedEmail,
  });
  ctx.logger.info(
    { integration: ctx.integration.id, identifier: input.identifier, expiresAt: expiresAt.toISOString() },
    "connect session created",
  );
  return { token, url: `${ctx.config.publicUrl}/connect/${token}`, expires_at: expiresAt.toISOString() };
}
