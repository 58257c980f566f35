/**
 * Airlock as a library: the Airtable OAuth core, the token manager and the stores it runs on.
 * The service's SDK is `airlock/client`; the offline Airtable is `airlock/emulator`.
 *
 * @example
 * import { AirtableOAuth, readAirtableConfig } from "airlock";
 * const oauth = new AirtableOAuth(readAirtableConfig());
 */
export * from "./airtable/index.js";
export * from "./shared/errors.js";
export * from "./store/index.js";
export { type KeepAlive, type KeepAliveOptions, startKeepAlive } from "./tokens/keep-alive.js";
export type { TokenRefresher } from "./tokens/refresher.js";
export {
  type AccessToken,
  type GetAccessTokenOptions,
  TokenManager,
  type TokenManagerOptions,
} from "./tokens/token-manager.js";
