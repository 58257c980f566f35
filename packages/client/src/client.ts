import { AirlockApiError, AirlockError, type AirlockErrorCode } from "./errors.js";
import {
  type AccessToken,
  type AirtableWebhook,
  type AirtableWebhookSpecification,
  type ApiKey,
  type ApiKeyScope,
  type Connection,
  type ConnectionEvent,
  type ConnectionMetadata,
  type ConnectionPage,
  type ConnectionStatus,
  type ConnectSession,
  type CreatedApiKey,
  type Integration,
  readAccessToken,
  readAirtableWebhook,
  readAirtableWebhookList,
  readApiKeyList,
  readConnection,
  readConnectionPage,
  readConnectSession,
  readCreatedApiKey,
  readErrorEnvelope,
  readEventList,
  readIntegration,
  readIntegrationList,
  type WireReader,
  WireShapeError,
} from "./types.js";

export interface AirlockClientOptions {
  /** Where `airlock serve` listens, e.g. `http://localhost:4000`. */
  baseUrl: string | URL;
  /** The service's `AIRLOCK_SECRET_KEY`. Keep it on your server; never ship it to a browser. */
  secretKey: string;
  /** A `fetch` to use instead of the global one (tests, proxies, instrumentation). */
  fetch?: typeof fetch;
  /**
   * The integration whose connections this client acts on (`GET /v1/integrations` lists them);
   * absent: `default`, the service's AIRTABLE_* integration. See {@link AirlockClient.forIntegration}.
   */
  integration?: string;
}

export interface CreateIntegrationInput {
  /** Lower-case letters, digits, `-` and `_`: its routes are `/v1/integrations/<id>/…`. */
  id: string;
  name?: string;
  clientId: string;
  /** Absent for a public client; stored encrypted, never returned. */
  clientSecret?: string;
  scopes: string[];
}

export interface CreateConnectSessionInput {
  /** Your id for the end user (or workspace) this connection belongs to. */
  identifier: string;
  /** Airtable scopes to ask for; defaults to the service's `AIRTABLE_SCOPES`. */
  scopes?: string[];
  /** Where the user's browser goes afterwards, with `status=connected` or `status=error&error=…`. */
  returnUrl?: string;
  /**
   * Put on the connection when the user has connected, replacing its metadata; absent or null keeps
   * a reconnected connection's own.
   */
  metadata?: ConnectionMetadata | null;
  /**
   * The email of the Airtable account that must consent (case-insensitive; needs the
   * `user.email:read` scope): another account's consent connects nothing and the browser comes back
   * with `status=error&error=wrong_account`.
   */
  expectedEmail?: string;
}

export interface ListConnectionsInput {
  /** Page size (the service caps it). */
  limit?: number;
  /** `nextCursor` from the previous page. */
  cursor?: string;
  /** Only connections with this status. */
  status?: ConnectionStatus;
}

export interface CreateAirtableWebhookInput {
  /** The base to watch (`app…`); the user must have granted it on consent and be a creator of it. */
  baseId: string;
  /** Airtable's webhook specification, passed through as is; `options.filters.dataTypes` is required. */
  specification: AirtableWebhookSpecification;
}

/** Codes the service may send; anything else is reported as `internal` with the wire code in `details`. */
const KNOWN_CODES: ReadonlySet<string> = new Set<AirlockErrorCode>([
  "config_invalid",
  "invalid_input",
  "invalid_client",
  "invalid_scope",
  "access_denied",
  "invalid_state",
  "invalid_grant",
  "authorization_failed",
  "reauth_required",
  "transient",
  "rate_limited",
  "api_error",
  "unauthorized",
  "not_found",
  "conflict",
  "payload_too_large",
  "unsupported_media_type",
  "timeout",
  "internal",
]);

/**
 * A typed client for the Airlock service's HTTP API (`/v1/*`). Results are camelCase with
 * `Date`s; failures throw {@link AirlockApiError} with the service's `code`, `hint` and `status`.
 *
 * @example
 * import { AirlockClient } from "@airlock/client"; // or "airlock/client"
 *
 * const airlock = new AirlockClient({ baseUrl: "http://localhost:4000", secretKey: process.env.AIRLOCK_SECRET_KEY! });
 * const { url } = await airlock.createConnectSession({ identifier: "user_123" });
 * // …send the user to `url`; once they are back:
 * const res = await airlock.request("user_123", "/v0/meta/bases");
 * console.log(await res.json());
 */
/** `createApiKey`'s input. */
export interface CreateApiKeyInput {
  /** 1 to 100 printable characters, e.g. "billing workers". */
  name: string;
  scope: ApiKeyScope;
}

export class AirlockClient {
  readonly #baseUrl: string;
  readonly #secretKey: string;
  readonly #fetch: typeof fetch;
  readonly #options: AirlockClientOptions;
  /** `/v1`, or `/v1/integrations/<id>` for another integration's connection routes. */
  readonly #v1: string;

  constructor(options: AirlockClientOptions) {
    let base: URL;
    try {
      base = new URL(options.baseUrl);
    } catch (cause) {
      throw new AirlockError("invalid_input", `baseUrl is not a URL: ${String(options.baseUrl)}`, {
        hint: "Pass the service's address, e.g. http://localhost:4000.",
        cause,
      });
    }
    if (base.protocol !== "http:" && base.protocol !== "https:") {
      throw new AirlockError("invalid_input", `baseUrl must be http(s), got ${base.protocol}`, {
        hint: "Pass the service's address, e.g. https://airlock.example.com.",
      });
    }
    if (!options.secretKey) {
      throw new AirlockError("invalid_input", "secretKey is empty.", {
        hint: "Pass the service's AIRLOCK_SECRET_KEY (printed by `airlock serve` on first start).",
      });
    }
    this.#baseUrl = base.href.replace(/\/+$/, "");
    this.#secretKey = options.secretKey;
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#options = options;
    const integration = options.integration;
    if (integration !== undefined && !/^[a-z0-9][a-z0-9_-]{0,62}$/.test(integration)) {
      throw new AirlockError("invalid_input", `integration is not an integration id: ${integration}`, {
        hint: "Pass an id GET /v1/integrations lists, e.g. readonly (lower-case letters, digits, - and _).",
      });
    }
    this.#v1 = integration === undefined ? "/v1" : `/v1/integrations/${integration}`;
  }

  /**
   * The same client acting on another integration's connections (connect sessions, connections,
   * access tokens, the proxy, Airtable webhooks); API keys and the list of integrations are shared.
   *
   * @example
   * const readonly = airlock.forIntegration("readonly");
   * const { url } = await readonly.createConnectSession({ identifier: "user_123" });
   */
  forIntegration(integration: string): AirlockClient {
    return new AirlockClient({ ...this.#options, integration });
  }

  /**
   * The integrations the service acts for, `default` (its AIRTABLE_* one) first.
   *
   * @example
   * const ids = (await airlock.listIntegrations()).map((i) => i.id); // ["default", "readonly"]
   */
  async listIntegrations(): Promise<Integration[]> {
    return this.#json("GET", "/v1/integrations", readIntegrationList);
  }

  /**
   * Adds an Airtable OAuth integration; every instance of the service serves it within seconds.
   * Register the service's callback (`<baseUrl>/oauth/callback`) with it on Airtable first.
   *
   * @example
   * await airlock.createIntegration({ id: "readonly", clientId: "…", clientSecret: "…", scopes: ["data.records:read"] });
   */
  async createIntegration(input: CreateIntegrationInput): Promise<Integration> {
    const body: Record<string, unknown> = { id: input.id, client_id: input.clientId, scopes: input.scopes };
    if (input.name !== undefined) body.name = input.name;
    if (input.clientSecret !== undefined) body.client_secret = input.clientSecret;
    return this.#json("POST", "/v1/integrations", readIntegration, body);
  }

  /**
   * Removes an integration made with {@link createIntegration}; refused (409) while any of its
   * connections is not disconnected.
   *
   * @example
   * await airlock.deleteIntegration("readonly");
   */
  async deleteIntegration(id: string): Promise<void> {
    const res = await this.#send("DELETE", `/v1/integrations/${encodeURIComponent(id)}`);
    if (!res.ok) throw await toApiError(res);
  }

  /**
   * Creates a one-time "Connect your Airtable" link for one end user. Send their browser to `url`;
   * they approve on Airtable and come back to `returnUrl`. Connecting an identifier that already
   * exists reconnects it in place (that is how a `reauth_required` connection is repaired).
   *
   * @example
   * const session = await airlock.createConnectSession({
   *   identifier: "user_123",
   *   scopes: ["data.records:read", "schema.bases:read"],
   *   returnUrl: "https://app.example.com/settings/airtable",
   * });
   * res.redirect(session.url);
   */
  async createConnectSession(input: CreateConnectSessionInput): Promise<ConnectSession> {
    requireIdentifier(input.identifier);
    const body: Record<string, unknown> = { identifier: input.identifier };
    if (input.scopes !== undefined) body.scopes = input.scopes;
    if (input.returnUrl !== undefined) body.return_url = input.returnUrl;
    if (input.metadata !== undefined) body.metadata = input.metadata;
    if (input.expectedEmail !== undefined) body.expected_email = input.expectedEmail;
    return this.#json("POST", `${this.#v1}/connect-sessions`, readConnectSession, body);
  }

  /**
   * One page of connections, ordered by identifier.
   *
   * @example
   * const { connections, nextCursor } = await airlock.listConnections({ status: "reauth_required", limit: 50 });
   */
  async listConnections(input: ListConnectionsInput = {}): Promise<ConnectionPage> {
    const query = new URLSearchParams();
    if (input.limit !== undefined) query.set("limit", String(input.limit));
    if (input.cursor !== undefined) query.set("cursor", input.cursor);
    if (input.status !== undefined) query.set("status", input.status);
    const qs = query.size > 0 ? `?${query}` : "";
    return this.#json("GET", `${this.#v1}/connections${qs}`, readConnectionPage);
  }

  /**
   * Every connection, page after page, as an async iterator.
   *
   * @example
   * for await (const connection of airlock.iterateConnections({ status: "reauth_required" })) {
   *   await notifyUser(connection.identifier);
   * }
   */
  async *iterateConnections(input: Omit<ListConnectionsInput, "cursor"> = {}): AsyncGenerator<Connection> {
    let cursor: string | undefined;
    do {
      const page = await this.listConnections({ ...input, ...(cursor === undefined ? {} : { cursor }) });
      yield* page.connections;
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
  }

  /**
   * One connection: status, scopes, Airtable user, expiry times. Throws `not_found` when unknown.
   *
   * @example
   * const connection = await airlock.getConnection("user_123");
   * if (connection.status === "reauth_required") showReconnectButton();
   */
  async getConnection(identifier: string): Promise<Connection> {
    requireIdentifier(identifier);
    return this.#json("GET", `${this.#v1}/connections/${encodeURIComponent(identifier)}`, readConnection);
  }

  /**
   * Replaces a connection's metadata as a whole (no merge); `null` clears it. Returns the connection.
   * Throws `invalid_input` (not an object, over 4 KiB or 50 keys) or `not_found`.
   *
   * @example
   * const connection = await airlock.updateConnectionMetadata("user_123", { plan: "team" });
   * await airlock.updateConnectionMetadata("user_123", null); // cleared
   */
  async updateConnectionMetadata(
    identifier: string,
    metadata: ConnectionMetadata | null,
  ): Promise<Connection> {
    requireIdentifier(identifier);
    return this.#json("PATCH", `${this.#v1}/connections/${encodeURIComponent(identifier)}`, readConnection, {
      metadata,
    });
  }

  /**
   * A connection's recent history (connected, refreshed, reauth_required…), newest first.
   *
   * @example
   * const events = await airlock.listEvents("user_123", { limit: 20 });
   * console.log(events.map((e) => `${e.createdAt.toISOString()} ${e.type}`).join("\n"));
   */
  async listEvents(identifier: string, input: { limit?: number } = {}): Promise<ConnectionEvent[]> {
    requireIdentifier(identifier);
    const qs = input.limit === undefined ? "" : `?limit=${input.limit}`;
    return this.#json(
      "GET",
      `${this.#v1}/connections/${encodeURIComponent(identifier)}/events${qs}`,
      readEventList,
    );
  }

  /**
   * Disconnects: the connection stays, as `revoked`, with its tokens erased and its history kept;
   * {@link AirlockClient.request} and {@link AirlockClient.getAccessToken} then throw with
   * `isReauthRequired`, and a new connect link reactivates it. Disconnecting again does nothing.
   * Throws `not_found` for an identifier that never connected.
   *
   * @example
   * await airlock.deleteConnection("user_123");
   */
  async deleteConnection(identifier: string): Promise<void> {
    requireIdentifier(identifier);
    const res = await this.#send("DELETE", `${this.#v1}/connections/${encodeURIComponent(identifier)}`);
    if (!res.ok) throw await toApiError(res);
    await res.body?.cancel();
  }

  /**
   * An Airtable access token valid for at least five minutes, refreshed first when needed. Use it
   * when you must call Airtable yourself; {@link AirlockClient.request} does this for you.
   * Throws with `isReauthRequired` when the user must connect again.
   *
   * @example
   * const { accessToken } = await airlock.getAccessToken("user_123");
   * await fetch("https://api.airtable.com/v0/meta/whoami", { headers: { authorization: `Bearer ${accessToken}` } });
   */
  async getAccessToken(identifier: string): Promise<AccessToken> {
    requireIdentifier(identifier);
    return this.#json(
      "POST",
      `${this.#v1}/connections/${encodeURIComponent(identifier)}/access-token`,
      readAccessToken,
    );
  }

  /**
   * Creates an Airtable webhook on one of the user's bases. Airlock keeps it alive (Airtable
   * drops a webhook not refreshed within 7 days), verifies Airtable's pings, fetches the payloads
   * and sends them to your `AIRLOCK_WEBHOOK_URL` as `airtable.payloads` events, in order. The
   * connection needs the `webhook:manage` scope. Throws `conflict` when the service has no
   * `AIRLOCK_WEBHOOK_URL`, `reauth_required` when the connection is not active, `access_denied`
   * or `invalid_input` with Airtable's reason when Airtable refuses.
   *
   * @example
   * const webhook = await airlock.createAirtableWebhook("user_123", {
   *   baseId: "appXXXXXXXXXXXXXX",
   *   specification: { options: { filters: { dataTypes: ["tableData"] } } },
   * });
   * console.log(webhook.id, webhook.expirationTime);
   */
  async createAirtableWebhook(
    identifier: string,
    input: CreateAirtableWebhookInput,
  ): Promise<AirtableWebhook> {
    requireIdentifier(identifier);
    return this.#json("POST", airtableWebhooksPath(this.#v1, identifier), readAirtableWebhook, {
      base_id: input.baseId,
      specification: input.specification,
    });
  }

  /**
   * The connection's Airtable webhooks: status, expiry, last ping, cursor and delivery state.
   * Throws `not_found` for an unknown identifier.
   *
   * @example
   * for (const webhook of await airlock.listAirtableWebhooks("user_123")) {
   *   if (webhook.delivery.pending > 0) console.warn(webhook.id, webhook.delivery.lastError);
   * }
   */
  async listAirtableWebhooks(identifier: string): Promise<AirtableWebhook[]> {
    requireIdentifier(identifier);
    return this.#json("GET", airtableWebhooksPath(this.#v1, identifier), readAirtableWebhookList);
  }

  /**
   * Deletes an Airtable webhook on Airtable and in Airlock; payload events already queued are
   * still delivered. Throws `not_found` for a webhook the connection does not have.
   *
   * @example
   * await airlock.deleteAirtableWebhook("user_123", webhook.id);
   */
  async deleteAirtableWebhook(identifier: string, webhookId: string): Promise<void> {
    requireIdentifier(identifier);
    if (typeof webhookId !== "string" || webhookId.length === 0) {
      throw new AirlockError("invalid_input", "webhookId is empty.", {
        hint: "Pass the id createAirtableWebhook or listAirtableWebhooks returned (awh_…).",
      });
    }
    const path = `${airtableWebhooksPath(this.#v1, identifier)}/${encodeURIComponent(webhookId)}`;
    const res = await this.#send("DELETE", path);
    if (!res.ok) throw await toApiError(res);
    await res.body?.cancel();
  }

  /**
   * Creates a named API key (needs an admin key or the secret key). The returned `key` is shown
   * only this once: store it where the client that uses it reads its configuration.
   *
   * @example
   * const { id, key } = await airlock.createApiKey({ name: "billing workers", scope: "proxy" });
   */
  async createApiKey(input: CreateApiKeyInput): Promise<CreatedApiKey> {
    return this.#json("POST", "/v1/api-keys", readCreatedApiKey, { name: input.name, scope: input.scope });
  }

  /**
   * Every named API key, revoked ones included, with its last-used time (never the keys themselves).
   *
   * @example
   * const unused = (await airlock.listApiKeys()).filter((k) => !k.revokedAt && !k.lastUsedAt);
   */
  async listApiKeys(): Promise<ApiKey[]> {
    return this.#json("GET", "/v1/api-keys", readApiKeyList);
  }

  /**
   * Revokes a named API key: every instance refuses it from now on. Revoking again changes
   * nothing; an unknown id throws `not_found`.
   *
   * @example
   * await airlock.revokeApiKey("key_3kTq9vWm2xYb");
   */
  async revokeApiKey(id: string): Promise<void> {
    if (typeof id !== "string" || id.length === 0) {
      throw new AirlockError("invalid_input", "id is empty.", {
        hint: "Pass the id createApiKey or listApiKeys returned (key_…).",
      });
    }
    const res = await this.#send("DELETE", `/v1/api-keys/${encodeURIComponent(id)}`);
    if (!res.ok) throw await toApiError(res);
    await res.body?.cancel();
  }

  /**
   * Calls Airtable's Web API as the user, through the service's proxy: the service injects a fresh
   * token, refreshes and retries once on a 401, and passes 429 with `Retry-After` through.
   * `path` is an Airtable path starting with `/v0/`. Airtable's answers (including 4xx) come back as
   * the `Response`; Airlock's own refusals (`reauth_required`, `not_found`, `unauthorized`…) throw.
   *
   * @example
   * const res = await airlock.request("user_123", "/v0/appXXXXXXXXXXXXXX/Tasks", {
   *   method: "POST",
   *   headers: { "content-type": "application/json" },
   *   body: JSON.stringify({ records: [{ fields: { Name: "Write README" } }] }),
   * });
   * if (!res.ok) throw new Error(`Airtable said ${res.status}`);
   */
  async request(identifier: string, path: string, init: RequestInit = {}): Promise<Response> {
    requireIdentifier(identifier);
    if (!path.startsWith("/v0/")) {
      throw new AirlockError(
        "invalid_input",
        `path must be an Airtable API path starting with /v0/, got ${path}`,
        {
          hint: 'Pass the part after https://api.airtable.com, e.g. "/v0/meta/bases".',
        },
      );
    }
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${this.#secretKey}`);
    const res = await this.#fetchOrThrow(
      `${this.#baseUrl}${this.#v1}/proxy/${encodeURIComponent(identifier)}${path}`,
      {
        ...init,
        headers,
      },
    );
    if (!res.ok && (await isAirlockRefusal(res))) throw await toApiError(res);
    return res;
  }

  async #json<T>(
    method: string,
    path: string,
    read: WireReader<T>,
    body?: Record<string, unknown>,
  ): Promise<T> {
    const res = await this.#send(method, path, body);
    if (!res.ok) throw await toApiError(res);
    const requestId = res.headers.get("x-request-id");
    let payload: unknown;
    try {
      payload = await res.json();
    } catch {
      throw new AirlockApiError(
        res.status,
        "internal",
        `${method} ${path} answered with a body that is not JSON.`,
        {
          hint: "Check that baseUrl points at the Airlock service and not at another server or proxy.",
          requestId,
        },
      );
    }
    try {
      return read(payload);
    } catch (error) {
      if (!(error instanceof WireShapeError)) throw error;
      throw new AirlockApiError(
        res.status,
        "internal",
        `${method} ${path} answered with an unexpected shape.`,
        {
          hint: "Use an SDK version that matches the service version.",
          requestId,
          details: { issues: [error.message] },
        },
      );
    }
  }

  #send(method: string, path: string, body?: Record<string, unknown>): Promise<Response> {
    const headers = new Headers({ authorization: `Bearer ${this.#secretKey}`, accept: "application/json" });
    if (body !== undefined) headers.set("content-type", "application/json");
    return this.#fetchOrThrow(`${this.#baseUrl}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }

  async #fetchOrThrow(url: string, init: RequestInit): Promise<Response> {
    try {
      return await this.#fetch(url, init);
    } catch (cause) {
      // The URL carries no secret (the key travels in a header), so it is safe to name.
      throw new AirlockError("transient", `Could not reach the Airlock service at ${new URL(url).origin}.`, {
        hint: "Check that `airlock serve` is running and that baseUrl is right.",
        cause,
      });
    }
  }
}

function requireIdentifier(identifier: string): void {
  if (typeof identifier !== "string" || identifier.length === 0) {
    throw new AirlockError("invalid_input", "identifier is empty.", {
      hint: "Pass your id for the end user, e.g. user_123.",
    });
  }
}

function airtableWebhooksPath(v1: string, identifier: string): string {
  return `${v1}/connections/${encodeURIComponent(identifier)}/airtable-webhooks`;
}

/** Airlock's envelope has `error.code`; Airtable's own errors (passed through by the proxy) have `error.type`. */
async function isAirlockRefusal(res: Response): Promise<boolean> {
  if (!res.headers.get("content-type")?.includes("application/json")) return false;
  try {
    return readErrorEnvelope(await res.clone().json()) !== null;
  } catch {
    return false;
  }
}

async function toApiError(res: Response): Promise<AirlockApiError> {
  const requestId = res.headers.get("x-request-id");
  let payload: unknown = null;
  try {
    payload = await res.json();
  } catch {
    // Not JSON (a load balancer's HTML page, an empty body): described below from the status alone.
  }
  const envelope = readErrorEnvelope(payload);
  if (envelope === null) {
    return new AirlockApiError(
      res.status,
      fallbackCode(res.status),
      `The service answered HTTP ${res.status}.`,
      {
        hint: "Check that baseUrl points at the Airlock service; the response was not an Airlock error.",
        requestId,
      },
    );
  }
  const { code, message, hint, details } = envelope;
  const known = KNOWN_CODES.has(code);
  return new AirlockApiError(res.status, known ? (code as AirlockErrorCode) : "internal", message, {
    ...(hint === undefined ? {} : { hint }),
    requestId,
    ...(known ? (details === undefined ? {} : { details }) : { details: { ...details, wire_code: code } }),
  });
}

function fallbackCode(status: number): AirlockErrorCode {
  if (status === 401 || status === 403) return "unauthorized";
  if (status === 404) return "not_found";
  if (status === 409) return "conflict";
  if (status === 413) return "payload_too_large";
  if (status === 415) return "unsupported_media_type";
  if (status === 429) return "rate_limited";
  if (status === 504) return "timeout";
  if (status >= 500) return "transient";
  return "api_error";
}
