/**
 * Handing a request to another app under a different path (an integration's routes, mounted
 * without their `/v1/integrations/:id` or `/integrations/:id` prefix): the same method, headers and
 * body, the body streamed through unread.
 */

/**
 * `raw` as a request for `url`.
 *
 * @example
 * url.pathname = `/v1${rest}`;
 * return scoped.fetch(requestAt(c.req.raw, url));
 */
export function requestAt(raw: Request, url: URL): Request {
  return new Request(url, {
    method: raw.method,
    headers: raw.headers,
    body: raw.method === "GET" || raw.method === "HEAD" ? null : raw.body,
    signal: raw.signal,
    // A streamed body needs it (undici); the body is read once, by the app it is handed to.
    duplex: "half",
  } as RequestInit);
}
