/**
 * Rules for the values callers hand the service: connection identifiers and `return_url`s.
 * Shared by the API schemas, the connect flow and the dashboard so each rule lives in one place.
 */
import { z } from "zod";
import { AirlockError } from "../shared/errors.js";
import type { ServiceConfig } from "./config.js";

/** 1–255 characters, starting with a letter or digit, then letters, digits and `. _ : @ + -`. */
export const IDENTIFIER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@+-]{0,254}$/;

/** The zod schema for an identifier (body field or path parameter). */
export const identifierSchema = z
  .string()
  .regex(
    IDENTIFIER_PATTERN,
    "must be 1–255 characters: letters, digits and . _ : @ + -, starting with a letter or digit",
  );

/**
 * Throws `invalid_input` unless `value` is a valid connection identifier.
 */
export function assertIdentifier(value: string): void {
  if (!IDENTIFIER_PATTERN.test(value)) {
    throw new AirlockError("invalid_input", "The identifier is not valid.", {
      hint: "Use 1–255 characters: letters, digits and . _ : @ + -, starting with a letter or digit (e.g. user_123).",
    });
  }
}

/**
 * The origins a `return_url` may point to: the public URL's own, plus `AIRLOCK_ALLOWED_RETURN_ORIGINS`.
 */
export function allowedReturnOrigins(
  config: Pick<ServiceConfig, "publicOrigin" | "allowedReturnOrigins">,
): string[] {
  return [config.publicOrigin, ...config.allowedReturnOrigins];
}

/**
 * Validates a `return_url` and returns it normalised, or throws `invalid_input`. Only absolute http(s)
 * URLs on an allowed origin pass: no scheme-relative `//host`, no `javascript:`, no userinfo
 * (`https://app.example.com@evil.com`), no backslashes or control characters that browsers
 * reinterpret. Called when a session is created AND again right before redirecting.
 */
export function checkReturnUrl(
  raw: string,
  config: Pick<ServiceConfig, "publicOrigin" | "allowedReturnOrigins">,
): string {
  const origins = allowedReturnOrigins(config);
  const reject = (why: string) =>
    new AirlockError("invalid_input", `return_url is not allowed: ${why}.`, {
      hint: `Use an absolute https URL on ${origins.join(" or ")}; add other origins to AIRLOCK_ALLOWED_RETURN_ORIGINS.`,
    });
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point.
  if (raw.length > 2048 || /[\\\u0000-\u001f\u007f\s]/.test(raw))
    throw reject("it contains characters a browser reinterprets");
  if (!/^https?:\/\/[^/]/i.test(raw)) throw reject("it must be an absolute http(s) URL");
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw reject("it is not a URL");
  }
  if (url.username !== "" || url.password !== "") throw reject("it carries credentials");
  if (!origins.includes(url.origin)) {
    throw new AirlockError(
      "invalid_input",
      `return_url is not allowed: its origin ${url.origin} is neither this service's (${config.publicOrigin}) nor in AIRLOCK_ALLOWED_RETURN_ORIGINS.`,
      {
        hint: `To send users back to ${url.origin}, add it to the service's environment: AIRLOCK_ALLOWED_RETURN_ORIGINS=${[...config.allowedReturnOrigins, url.origin].join(",")} (comma-separated origins), and restart.`,
      },
    );
  }
  return url.href;
}
