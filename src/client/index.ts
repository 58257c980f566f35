/**
 * `airlock/client`: the SDK for the Airlock service's HTTP API, which lives in its own package,
 * `@airlock/client` (no runtime dependencies), re-exported here so `airlock/client` imports keep
 * working and give the very same classes.
 *
 * @example
 * import { AirlockClient, AirlockApiError } from "airlock/client"; // same as "@airlock/client"
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
export * from "@airlock/client";
