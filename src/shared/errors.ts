/**
 * One error family for all of Airlock. Every error carries a machine `code` (a string-literal
 * union, stable across versions) and a human `hint` that says what to do next. The class lives in
 * `@airlock/client` (which needs nothing from this package), so the library, the service and the
 * SDK throw and recognise one and the same `AirlockError`. It is imported from the SDK's `errors`
 * entry, not its index, so a CLI run does not load the whole SDK (client, wire types, webhooks).
 *
 * @example
 * throw new AirlockError("reauth_required", "The refresh token was rejected by Airtable.", {
 *   hint: "Ask the user to reconnect: run `airlock login` again.",
 * });
 */
export {
  AirlockError,
  type AirlockErrorCode,
  type AirlockErrorOptions,
  isAirlockError,
} from "@airlock/client/errors";

/**
 * The machine code an Error carries in its own `code` (Node's errno `ENOENT`, a driver's
 * `SQLITE_FULL` or SQLSTATE `08006`), when it is a string; undefined for anything else.
 *
 * @example
 * if (errorCode(error) === "ENOENT") return null;
 */
export function errorCode(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}
