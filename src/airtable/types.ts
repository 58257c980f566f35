/** Shapes shared by the OAuth client, the token manager and the stores. */

/** The result of a code exchange or a refresh, with absolute expiry times. */
export interface TokenSet {
  accessToken: string;
  refreshToken: string;
  /** Always "Bearer" (compared case-insensitively when parsed). */
  tokenType: "Bearer";
  scopes: string[];
  accessTokenExpiresAt: Date;
  refreshTokenExpiresAt: Date;
  /** When the response was received (the base for the two expiry times). */
  obtainedAt: Date;
}

/** Settings of an Airtable OAuth integration, as read from AIRTABLE_* variables. */
export interface AirtableOAuthConfig {
  clientId: string;
  /** Absent for a public client (PKCE only, no Basic auth). */
  clientSecret?: string | undefined;
  redirectUri: string;
  scopes: string[];
  /** Default https://airtable.com */
  oauthUrl: string;
  /** Default https://api.airtable.com */
  apiUrl: string;
}
