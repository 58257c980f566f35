/**
 * A JSON answer with any HTTP status, byte for byte what `c.json(body, status, headers)` sends.
 * Hono types a status as one of the codes it lists, but an injected fault may carry any 400–599
 * (499, 520…), so here the status is the plain number it is rather than a cast to a code it may
 * not be.
 */
export function jsonResponse(body: object, status: number, headers: Record<string, string> = {}): Response {
  const all: Record<string, string> = { "Content-Type": "application/json", ...headers };
  // As c.json does: a lone Content-Type goes to the Response as a plain record (which
  // @hono/node-server writes as spelled), more than one header as Headers (written in lower case).
  return new Response(JSON.stringify(body), {
    status,
    headers: Object.keys(all).length > 1 ? new Headers(all) : all,
  });
}
