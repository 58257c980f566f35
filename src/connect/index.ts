/**
 * `airlock/connect`: "Connect your Airtable" in the app's own page, for the browser, with no
 * framework and no imports (a plain `<script type="module">` can load the built file). `connect()`
 * opens a connect link in a popup and resolves with the outcome the popup posts back; where
 * popups are blocked it falls back to a full-page redirect to the link.
 *
 * The trust runs one way: the popup posts only to the origin of the session's `return_url` (set by
 * the app's backend with its secret key), and this module accepts only messages whose origin is
 * the connect link's and whose source is the popup it opened.
 */

/** What {@link connect} resolves with. */
export interface ConnectResult {
  /** `connected`; `error` (Airtable refused, the user declined, another account…); `closed` by the user. */
  status: "connected" | "error" | "closed";
  /** The connection's identifier (absent when `closed`). */
  identifier?: string;
  /** The error code when `status` is `error` (e.g. `access_denied`, `wrong_account`, `timeout`). */
  error?: string;
}

export interface ConnectOptions {
  /** The connect link your backend got from `POST /v1/connect-sessions` (the session needs a `return_url`). */
  url: string;
  /** The popup's size in CSS pixels (default 500 × 720), centred on the app's window. */
  popup?: { width?: number; height?: number };
  /** Give up after this long: the popup is closed and the result is `{ status: "error", error: "timeout" }`. Default: wait as long as the popup is open. */
  timeoutMs?: number;
}

/** The `type` of the message the service's popup page posts. */
export const CONNECT_MESSAGE_TYPE = "airlock:connect";

/** How often the popup is checked for being closed, and how long a close waits for a message in flight. */
const POLL_MS = 250;
const CLOSE_GRACE_MS = 300;

/** The handful of browser APIs this module uses (typed here, so it needs no DOM library types). */
export interface ConnectWindow {
  open(url: string, target: string, features: string): PopupWindow | null;
  readonly location: { assign(url: string): void };
  addEventListener(type: "message", listener: (event: ConnectMessageEvent) => void): void;
  removeEventListener(type: "message", listener: (event: ConnectMessageEvent) => void): void;
  setInterval(handler: () => void, ms: number): unknown;
  clearInterval(id: unknown): void;
  setTimeout(handler: () => void, ms: number): unknown;
  clearTimeout(id: unknown): void;
  readonly screenX?: number;
  readonly screenY?: number;
  readonly outerWidth?: number;
  readonly outerHeight?: number;
}

/** The popup as the opener sees it. */
export interface PopupWindow {
  readonly closed: boolean;
  close(): void;
}

/** A `message` event as far as this module reads it. */
export interface ConnectMessageEvent {
  readonly origin: string;
  readonly source: unknown;
  readonly data: unknown;
}

/**
 * Opens the connect link in a popup (the user presses Continue, consents on Airtable) and resolves
 * with the outcome. Call it from a click handler: browsers allow popups only on a user gesture.
 *
 * Where the popup is blocked, the page itself goes to the link (redirect mode) and the promise never
 * resolves: the app learns the outcome on its `return_url`, from `?status=connected&identifier=…`
 * or `?status=error&error=…`, as without this module.
 *
 * @throws TypeError when `url` is not an absolute http(s) URL.
 *
 * @example
 * import { connect } from "airlock/connect";
 *
 * button.addEventListener("click", async () => {
 *   const { url } = await (await fetch("/api/airtable/connect-link", { method: "POST" })).json();
 *   const result = await connect({ url });
 *   if (result.status === "connected") showConnected(result.identifier);
 *   else if (result.status === "error") showError(result.error);
 * });
 */
export function connect(options: ConnectOptions): Promise<ConnectResult> {
  return connectIn(globalThis as unknown as ConnectWindow, options);
}

/**
 * {@link connect} in the given window (what tests drive with a stand-in).
 *
 * @example
 * const result = await connectIn(window, { url });
 */
export function connectIn(win: ConnectWindow, options: ConnectOptions): Promise<ConnectResult> {
  const link = parseLink(options.url);
  const popupUrl = new URL(link.href);
  popupUrl.searchParams.set("mode", "popup");
  const popup = win.open(popupUrl.href, "_blank", popupFeatures(win, options.popup));
  if (popup === null) {
    win.location.assign(link.href);
    return new Promise<ConnectResult>(() => {});
  }
  return waitForOutcome(win, popup, link.origin, options.timeoutMs);
}

function parseLink(url: string): URL {
  let link: URL;
  try {
    link = new URL(url);
  } catch {
    link = new URL("invalid:");
  }
  if (link.protocol !== "https:" && link.protocol !== "http:") {
    // The link carries a secret token: it is never repeated in the message.
    throw new TypeError(
      "connect({ url }): url must be the absolute connect link (http or https) your backend got from POST /v1/connect-sessions.",
    );
  }
  return link;
}

function popupFeatures(win: ConnectWindow, size: ConnectOptions["popup"]): string {
  const width = Math.round(size?.width ?? 500);
  const height = Math.round(size?.height ?? 720);
  const left = Math.max(0, Math.round((win.screenX ?? 0) + ((win.outerWidth ?? width) - width) / 2));
  const top = Math.max(0, Math.round((win.screenY ?? 0) + ((win.outerHeight ?? height) - height) / 2));
  return `popup,width=${width},height=${height},left=${left},top=${top}`;
}

function waitForOutcome(
  win: ConnectWindow,
  popup: PopupWindow,
  origin: string,
  timeoutMs: number | undefined,
): Promise<ConnectResult> {
  return new Promise<ConnectResult>((resolve) => {
    let done = false;
    let closing = false;
    const timers: unknown[] = [];
    const finish = (result: ConnectResult) => {
      if (done) return;
      done = true;
      win.removeEventListener("message", onMessage);
      win.clearInterval(poll);
      for (const timer of timers) win.clearTimeout(timer);
      resolve(result);
    };
    const onMessage = (event: ConnectMessageEvent) => {
      if (event.origin !== origin || event.source !== popup) return;
      const result = readMessage(event.data);
      if (result) finish(result);
    };
    win.addEventListener("message", onMessage);
    const poll = win.setInterval(() => {
      // A popup that posts closes itself right after: give its message a moment to arrive.
      if (popup.closed && !closing) {
        closing = true;
        timers.push(win.setTimeout(() => finish({ status: "closed" }), CLOSE_GRACE_MS));
      }
    }, POLL_MS);
    if (timeoutMs !== undefined) {
      timers.push(
        win.setTimeout(() => {
          popup.close();
          finish({ status: "error", error: "timeout" });
        }, timeoutMs),
      );
    }
  });
}

/** The outcome in a message from the popup, or null for anything else. */
function readMessage(data: unknown): ConnectResult | null {
  if (typeof data !== "object" || data === null) return null;
  const message = data as Record<string, unknown>;
  if (message.type !== CONNECT_MESSAGE_TYPE) return null;
  if (message.status !== "connected" && message.status !== "error") return null;
  if (typeof message.identifier !== "string") return null;
  const result: ConnectResult = { status: message.status, identifier: message.identifier };
  if (message.status === "error")
    result.error = typeof message.error === "string" ? message.error : "unknown";
  return result;
}
