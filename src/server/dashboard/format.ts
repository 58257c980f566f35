/** Human wording for times, statuses and connect attempts on the dashboard. */
import type { ConnectAttempt, ConnectionStatus, EventRecord } from "../../store/types.js";

const rtf = new Intl.RelativeTimeFormat("en", { numeric: "always" });

const UNITS: ReadonlyArray<[Intl.RelativeTimeFormatUnit, number]> = [
  ["year", 365 * 86_400_000],
  ["day", 86_400_000],
  ["hour", 3_600_000],
  ["minute", 60_000],
];

/**
 * "in 58 minutes", "in 59 days", "3 hours ago". Truncates rather than rounds, so an expiry is never
 * shown later than it is; days run up to a year because Airtable's windows are 60 days.
 */
export function relativeTime(date: Date, now: Date): string {
  const diff = date.getTime() - now.getTime();
  const abs = Math.abs(diff);
  if (abs < 60_000) return diff > 0 ? "in under a minute" : "just now";
  for (const [unit, ms] of UNITS) {
    if (abs >= ms) return rtf.format(Math.trunc(diff / ms), unit);
  }
  return rtf.format(Math.trunc(diff / 60_000), "minute");
}

/**
 * A UTC timestamp without seconds' noise, for `title` attributes and tables.
 */
export function absoluteTime(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/**
 * The label of a status badge.
 */
export function statusLabel(status: ConnectionStatus): string {
  switch (status) {
    case "active":
      return "Active";
    case "reauth_required":
      return "Reconnect needed";
    case "revoked":
      return "Revoked";
  }
}

const REASONS: Record<string, string> = {
  invalid_grant: "Airtable rejected the refresh token (access revoked or expired)",
  refresh_expired: "The refresh token passed its 60-day limit",
  refresh_interrupted: "A refresh was interrupted and its new tokens were lost",
  disconnected: "Disconnected: its tokens were erased. Reconnect to connect it again",
};

/**
 * Plain words for a status reason code; unknown codes are shown as they are.
 */
export function reasonText(reason: string): string {
  return REASONS[reason] ?? reason.replaceAll("_", " ");
}

/** What a connect attempt came to, in words (a dashboard notice). */
export interface AttemptNotice {
  kind: "warn" | "error";
  message: string;
  hint: string;
}

const CONNECT_ERRORS: Record<string, string> = {
  access_denied:
    "the user declined on Airtable's consent page (or Airtable would not let this integration be authorized)",
  invalid_state: "the browser came back from Airtable too late, or in another browser",
  invalid_scope: "Airtable refused the requested scopes",
  invalid_grant: "Airtable refused the authorization code",
};

/**
 * What happened to an identifier that has no connection: its newest link still unopened, opened
 * but not finished, or its last attempt failed (the newest `failure` event). Null when nothing is
 * known about it.
 */
export function describeAttempt(
  attempt: ConnectAttempt | null,
  failure: EventRecord | undefined,
  now: Date,
): AttemptNotice | null {
  if (failure && (!attempt || failure.createdAt.getTime() >= attempt.createdAt.getTime())) {
    const error = typeof failure.data.error === "string" ? failure.data.error : "unknown_error";
    const message = typeof failure.data.message === "string" ? failure.data.message : "";
    const why = CONNECT_ERRORS[error] ?? (message || error.replaceAll("_", " "));
    return {
      kind: "error",
      message: `The last attempt failed: ${error} — ${why}.`,
      hint: `That was ${relativeTime(failure.createdAt, now)} (${absoluteTime(failure.createdAt)}). Create a new link and send it to the user again.`,
    };
  }
  if (!attempt || attempt.returnedAt !== null) return null;
  if (attempt.openedAt === null) {
    return attempt.expiresAt.getTime() > now.getTime()
      ? {
          kind: "warn",
          message: `Pending: nobody has pressed “Continue to Airtable” on the link yet (it expires ${relativeTime(attempt.expiresAt, now)}; merely opening it, or a chat app's preview, does not count).`,
          hint: "Links work once, for 30 minutes. If the user lost it, create a new one.",
        }
      : {
          kind: "warn",
          message: `The last link expired ${relativeTime(attempt.expiresAt, now)} without anyone pressing “Continue to Airtable” on it.`,
          hint: "Create a new link and send it to the user again.",
        };
  }
  const deadline = attempt.authorizationExpiresAt;
  return deadline === null || deadline.getTime() > now.getTime()
    ? {
        kind: "warn",
        message:
          "Pending: the user went on to Airtable from the link but has not finished on its consent page yet.",
        hint: "They have 10 minutes from pressing Continue. If they closed the page, create a new link.",
      }
    : {
        kind: "warn",
        message:
          "The user went on to Airtable from the last link, but never came back from its consent page.",
        hint: "Create a new link and send it to the user again.",
      };
}
