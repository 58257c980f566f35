/**
 * The browser binding: a random value in an HttpOnly, SameSite=Lax cookie whose hash is stored with
 * each pending authorization. The callback completes only in the browser that opened the connect
 * link, so a leaked or forged callback URL is useless elsewhere (login CSRF, code injection).
 */
import type { Context } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import type { ServiceConfig } from "./config.js";
import { randomToken } from "./secrets.js";

const VALUE_RE = /^[A-Za-z0-9_-]{43}$/;

function cookieName(config: Pick<ServiceConfig, "publicUrl">): string {
  // `__Host-` pins the cookie to this exact host over HTTPS (no Domain, Path=/).
  return config.publicUrl.startsWith("https:") ? "__Host-airlock_binding" : "airlock_binding";
}

/**
 * The browser's binding value, creating (and setting) one when absent. Reusing an existing value
 * lets one browser run several connect flows at once.
 */
export function ensureBrowserBinding(c: Context, config: Pick<ServiceConfig, "publicUrl">): string {
  const name = cookieName(config);
  const existing = getCookie(c, name);
  const value = existing && VALUE_RE.test(existing) ? existing : randomToken();
  setCookie(c, name, value, {
    httpOnly: true,
    sameSite: "Lax",
    secure: config.publicUrl.startsWith("https:"),
    path: "/",
    maxAge: 15 * 60,
  });
  return value;
}

/**
 * The binding value this browser presented, or undefined.
 */
export function readBrowserBinding(c: Context, config: Pick<ServiceConfig, "publicUrl">): string | undefined {
  const value = getCookie(c, cookieName(config));
  return value && VALUE_RE.test(value) ? value : undefined;
}
