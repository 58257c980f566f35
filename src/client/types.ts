/**
 * What the Airlock service's HTTP API returns, as the SDK hands it to you: camelCase names and
 * `Date` objects (the wire uses snake_case and ISO 8601 strings). The schemas here validate every
 * response before it reaches your code, so a proxy or an old server that answers something else
 * fails loudly instead of handing you `undefined`.
 */
import { z } from "zod";

/** `active` works; `reauth_required` needs the user to reconnect; `revoked` is gone for good. */
export type ConnectionStatus = "active" | "reauth_required" | "revoked";

/** One end user's Airtable connection, without its tokens. */
export interface Connection {
  identifier: string;
  status: ConnectionStatus;
  /** Why the status is not `active` (`invalid_grant`, `refresh_expired`…), null when active. */
  statusReason: string | null;
  scopes: string[];
  airtableUserId: string | null;
  email: string | null;
  accessTokenExpiresAt: Date;
  refreshTokenExpiresAt: Date;
  lastRefreshedAt: Date | null;
  createdAt: Date;
}

/** A one-time "Connect your Airtable" link for one end user. */
export interface ConnectSession {
  /** The secret part of the link; shown once, single use. */
  token: string;
  /** Send the end user's browser here. */
  url: string;
  expiresAt: Date;
}

/** An Airtable access token valid for at least five more minutes. */
export interface AccessToken {
  accessToken: string;
  expiresAt: Date;
}

/** One page of connections; pass `nextCursor` back as `cursor` for the next one. */
export interface ConnectionPage {
  connections: Connection[];
  nextCursor: string | null;
}

/** One entry of a connection's history (connected, refreshed, reauth_required, deleted…). */
export interface ConnectionEvent {
  id: string;
  type: string;
  data: Record<string, unknown>;
  createdAt: Date;
}

const isoDate = z.string().transform((value, ctx) => {
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) {
    ctx.addIssue({ code: "custom", message: `not a date: ${value}` });
    return z.NEVER;
  }
  return date;
});

export const connectionWire = z
  .object({
    identifier: z.string(),
    status: z.enum(["active", "reauth_required", "revoked"]),
    status_reason: z.string().nullish(),
    scopes: z.array(z.string()),
    airtable_user_id: z.string().nullish(),
    email: z.string().nullish(),
    access_token_expires_at: isoDate,
    refresh_token_expires_at: isoDate,
    last_refreshed_at: isoDate.nullish(),
    created_at: isoDate,
  })
  .transform(
    (c): Connection => ({
      identifier: c.identifier,
      status: c.status,
      statusReason: c.status_reason ?? null,
      scopes: c.scopes,
      airtableUserId: c.airtable_user_id ?? null,
      email: c.email ?? null,
      accessTokenExpiresAt: c.access_token_expires_at,
      refreshTokenExpiresAt: c.refresh_token_expires_at,
      lastRefreshedAt: c.last_refreshed_at ?? null,
      createdAt: c.created_at,
    }),
  );

export const connectionPageWire = z
  .object({ connections: z.array(connectionWire), next_cursor: z.string().nullable() })
  .transform((page): ConnectionPage => ({ connections: page.connections, nextCursor: page.next_cursor }));

export const connectSessionWire = z
  .object({ token: z.string(), url: z.string(), expires_at: isoDate })
  .transform((s): ConnectSession => ({ token: s.token, url: s.url, expiresAt: s.expires_at }));

export const accessTokenWire = z
  .object({ access_token: z.string(), expires_at: isoDate })
  .transform((t): AccessToken => ({ accessToken: t.access_token, expiresAt: t.expires_at }));

const eventWire = z
  .object({
    id: z.string(),
    type: z.string(),
    data: z.record(z.string(), z.unknown()).nullish(),
    created_at: isoDate,
  })
  .transform(
    (e): ConnectionEvent => ({ id: e.id, type: e.type, data: e.data ?? {}, createdAt: e.created_at }),
  );

export const eventListWire = z
  .object({ events: z.array(eventWire) })
  .transform((list): ConnectionEvent[] => list.events);

/** Airlock's error envelope: `{error: {code, message, hint}}`. Airtable's own errors carry `type`, not `code`. */
export const errorWire = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    hint: z.string().optional(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});
