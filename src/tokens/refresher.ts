/**
 * What the token manager needs from an OAuth client. Declared here, by its consumer, so tokens/
 * names its one dependency and airtable/ stays below it: AirtableOAuth satisfies it structurally.
 * TokenSet stays in airtable/, because it is what Airtable's token endpoint returns and airtable/
 * may not import tokens/.
 */
import type { TokenSet } from "../airtable/types.js";

/** Anything that can trade a refresh token for a new TokenSet (AirtableOAuth, a test double). */
export interface TokenRefresher {
  /** `signal` aborts the request (the caller's timeout); without it the refresher applies its own. */
  refresh(refreshToken: string, options?: { signal?: AbortSignal }): Promise<TokenSet>;
}
