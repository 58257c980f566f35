/**
 * `@airlock/client` (also `airlock/client`): a typed SDK for the Airlock service's HTTP API, plus
 * webhook verification. No runtime dependencies; ESM only (`require()` works from Node 20.19 and
 * 22.12). Keep the secret key on your server: this is a backend SDK, never ship it to a browser.
 *
 * @example
 * import { AirlockClient, AirlockApiError } from "@airlock/client";
 *
 * const airlock = new AirlockClient({ baseUrl: "http://localhost:4000", secretKey: process.env.AIRLOCK_SECRET_KEY! });
 * try {
 *   const res = await airlock.request("user_123", "/v0/meta/whoami");
 *   console.log(await res.json());
 * } catch (err) {
 *   if (err instanceof AirlockApiError && err.isReauthRequired) {
 *     const { url } = await airlock.createConnectSession({ identifier: "user_123" });
 *     console.log(`Ask the user to reconnect: ${url}`);
 *   } else throw err;
 * }
 */

export {
  AirlockClient,
  type AirlockClientOptions,
  type CreateAirtableWebhookInput,
  type CreateApiKeyInput,
  type CreateConnectSessionInput,
  type CreateIntegrationInput,
  type ListConnectionsInput,
} from "./client.js";
export {
  AirlockApiError,
  AirlockError,
  type AirlockErrorCode,
  type AirlockErrorOptions,
  isAirlockError,
} from "./errors.js";
export type {
  AccessToken,
  AirtableWebhook,
  AirtableWebhookSpecification,
  AirtableWebhookStatus,
  ApiKey,
  ApiKeyScope,
  Connection,
  ConnectionEvent,
  ConnectionMetadata,
  ConnectionPage,
  ConnectionStatus,
  ConnectSession,
  CreatedApiKey,
  Integration,
} from "./types.js";
// Verifying Airlock's signed webhooks on the receiving side (helper module: webhooks.ts).
export * from "./webhooks.js";
