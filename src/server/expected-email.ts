/**
 * The Airtable account a connect session may insist on (`expected_email`): checked when the session
 * is created (an email, at most 254 characters, and the `user.email:read` scope that makes Airtable
 * share it) and again in the callback, against the account that consented. Emails are compared in
 * lower case and only ever shown or logged masked ("a***@example.com").
 */
import { AirlockError } from "../shared/errors.js";

/** The scope without which whoami carries no email, so no account could be confirmed. */
export const EMAIL_SCOPE = "user.email:read";

const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/**
 * Validates a connect session's `expected_email` against its scopes and returns it in lower case
 * (null when absent). Throws `invalid_input` for a malformed email or scopes without `user.email:read`.
 *
 * @example
 * checkExpectedEmail("Ada@Example.com", ["user.email:read"], true); // "ada@example.com"
 */
export function checkExpectedEmail(
  value: string | null | undefined,
  scopes: readonly string[],
  scopesExplicit: boolean,
): string | null {
  if (value === undefined || value === null) return null;
  if (value.length > 254 || !EMAIL_PATTERN.test(value)) {
    throw new AirlockError(
      "invalid_input",
      "expected_email is not an email address (at most 254 characters).",
      {
        hint: "Send the email of the Airtable account the user must connect, e.g. ada@example.com, or leave it out.",
      },
    );
  }
  if (!scopes.includes(EMAIL_SCOPE)) {
    throw new AirlockError(
      "invalid_input",
      `expected_email needs the ${EMAIL_SCOPE} scope: without it Airtable does not say which account consented.`,
      {
        hint: scopesExplicit
          ? `Add ${EMAIL_SCOPE} to scopes (it must also be in AIRTABLE_SCOPES), or leave out expected_email.`
          : `Add ${EMAIL_SCOPE} to AIRTABLE_SCOPES and to the integration's scopes, or leave out expected_email.`,
      },
    );
  }
  return value.toLowerCase();
}

/**
 * An email with only its first letter and its domain left, for pages and logs.
 *
 * @example
 * maskEmail("ada.lovelace@example.com"); // "a***@example.com"
 */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf("@");
  if (at < 1) return "***";
  return `${email[0]}***${email.slice(at)}`;
}

/**
 * Throws `wrong_account` when a session expected an account and the one that consented is another
 * (or unknown: whoami failed); the error carries only masked emails.
 *
 * @example
 * assertExpectedAccount("ada@example.com", "ADA@example.com"); // passes
 */
export function assertExpectedAccount(expected: string | null, actual: string | null): void {
  if (expected === null) return;
  if (actual !== null && actual.toLowerCase() === expected) return;
  const masked = maskEmail(expected);
  throw new AirlockError(
    "wrong_account",
    actual === null
      ? `Airlock could not confirm which Airtable account you signed in with; this link is for ${masked}.`
      : `You signed in to Airtable as another account; this link is for ${masked}.`,
    {
      hint: `Sign in to Airtable as ${masked}, then open a new link from the app that sent you here (each link works once).`,
      details: { expected: masked, ...(actual === null ? {} : { signed_in: maskEmail(actual) }) },
    },
  );
}
