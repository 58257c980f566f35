/** Human wording for times and statuses on the dashboard. */
import type { ConnectionStatus } from "../../store/types.js";

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
 *
 * @example
 * relativeTime(new Date(now.getTime() + 58.9 * 60_000), now); // "in 58 minutes"
 * relativeTime(new Date(now.getTime() - 30_000), now); // "just now"
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
 *
 * @example
 * absoluteTime(new Date("2026-01-02T03:04:05Z")); // "2026-01-02 03:04 UTC"
 */
export function absoluteTime(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

/**
 * The label of a status badge.
 *
 * @example
 * statusLabel("reauth_required"); // "Reconnect needed"
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
  deleted: "Disconnected",
};

/**
 * Plain words for a status reason code; unknown codes are shown as they are.
 *
 * @example
 * reasonText("invalid_grant"); // "Airtable rejected the refresh token (access revoked or expired)"
 */
export function reasonText(reason: string): string {
  return REASONS[reason] ?? reason.replaceAll("_", " ");
}
