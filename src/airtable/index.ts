/**
 * Airlock's Airtable core: endpoints, PKCE/state, scopes, redirect-URI rules, configuration,
 * the OAuth client, error classification and the Web API client.
 *
 * @example
 * import { AirtableOAuth, AirtableApi, readAirtableConfig, createPkcePair } from "./airtable/index.js";
 */
export * from "./api.js";
export * from "./config.js";
export * from "./endpoints.js";
export * from "./oauth.js";
export * from "./pkce.js";
export * from "./redirect-uri.js";
export * from "./scopes.js";
export * from "./token-errors.js";
export type * from "./types.js";
