/**
 * Popup mode (`airlock/connect`): a connect flow started with `?mode=popup` ends in a page that
 * posts the outcome to the app's window instead of a redirect. The flag travels from the link's
 * POST to the callback in a cookie of its own per flow (named after a hash of the flow's state, so
 * one browser can run several flows, popup or not, at once), HttpOnly and SameSite=Lax like the
 * browser binding: Airtable's redirect back is a top-level GET, which carries it. Nothing is
 * stored, so the flag costs no schema.
 */
import { createHash } from "node:crypto";
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { ServiceConfig } from "./config.js";

function cookieName(config: Pick<ServiceConfig, "publicUrl">, state: string): string {
  const tag = createHash("sha256").update(`airlock-popup\0${state}`).digest("base64url").slice(0, 16);
  // `__Host-` pins the cookie to this exact host over HTTPS (no Domain, Path=/).
  return `${config.publicUrl.startsWith("https:") ? "__Host-" : ""}airlock_popup_${tag}`;
}

/**
 * Marks the flow `state` names as a popup flow for `maxAgeSeconds` (its pending authorization's life).
 *
 * @example
 * rememberPopup(c, ctx.config, state, 600);
 */
export function rememberPopup(
  c: Context,
  config: Pick<ServiceConfig, "publicUrl">,
  state: string,
  maxAgeSeconds: number,
): void {
  setCookie(c, cookieName(config, state), "1", {
    httpOnly: true,
    sameSite: "Lax",
    secure: config.publicUrl.startsWith("https:"),
    path: "/",
    maxAge: maxAgeSeconds,
  });
}

/**
 * True when the flow `state` names was started in popup mode in this browser; the mark is cleared.
 *
 * @example
 * if (takePopup(c, ctx.config, state)) return popupResult(…);
 */
export function takePopup(c: Context, config: Pick<ServiceConfig, "publicUrl">, state: string): boolean {
  const name = cookieName(config, state);
  if (getCookie(c, name) !== "1") return false;
  deleteCookie(c, name, { path: "/", secure: config.publicUrl.startsWith("https:") });
  return true;
}
