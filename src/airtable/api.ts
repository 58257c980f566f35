/**
 * A typed client for the part of Airtable's Web API an OAuth app uses first: whoami, bases, base
 * schema, records and webhooks. Follows pagination, honours 429/503 with `Retry-After` (else 30 s)
 * within a bound, and turns error bodies (both of Airtable's shapes) into AirlockErrors with a fix.
 */
import { z } from "zod";
import { AirlockError } from "../shared/errors.js";
import { DEFAULT_API_URL, joinPath } from "./endpoints.js";

const user = z.looseObject({
  id: z.string(),
  scopes: z.array(z.string()).optional(),
  email: z.string().optional(),
});
const base = z.looseObject({ id: z.string(), name: z.string(), permissionLevel: z.string() });
const basesPage = z.looseObject({ bases: z.array(base), offset: z.string().optional() });
const field = z.looseObject({
  id: z.string(),
  name: z.string(),
  type: z.string(),
  description: z.string().optional(),
  options: z.record(z.string(), z.unknown()).optional(),
});
const view = z.looseObject({ id: z.string(), name: z.string(), type: z.string() });
const table = z.looseObject({
  id: z.string(),
  name: z.string(),
  description: z.string().optional(),
  primaryFieldId: z.string(),
  fields: z.array(field),
  views: z.array(view),
});
const schema = z.looseObject({ tables: z.array(table) });
const record = z.looseObject({
  id: z.string(),
  createdTime: z.string(),
  fields: z.record(z.string(), z.unknown()),
});
const recordsPage = z.looseObject({ records: z.array(record), offset: z.string().optional() });
const specification = z.looseObject({ options: z.record(z.string(), z.unknown()) });
const webhookCreated = z.looseObject({
  id: z.string(),
  macSecretBase64: z.string(),
  expirationTime: z.string().nullable().default(null),
});
const webhookInfo = z.looseObject({
  id: z.string(),
  areNotificationsEnabled: z.boolean(),
  cursorForNextPayload: z.number(),
  isHookEnabled: z.boolean(),
  notificationUrl: z.string().nullable(),
  expirationTime: z.string().nullable().default(null),
  specification,
  lastNotificationResult: z.unknown(),
  lastSuccessfulNotificationTime: z.string().nullable().optional(),
});
const webhooksList = z.looseObject({ webhooks: z.array(webhookInfo) });
const webhookRefreshed = z.looseObject({ expirationTime: z.string().nullable().default(null) });
// Every key optional: an error payload ({error: true, code}) or a new field must not stall a cursor.
const payload = z.looseObject({
  timestamp: z.string().optional(),
  baseTransactionNumber: z.number().optional(),
  payloadFormat: z.string().optional(),
  error: z.boolean().optional(),
  code: z.string().optional(),
});
const payloadsPage = z.looseObject({
  payloads: z.array(payload),
  cursor: z.number(),
  mightHaveMore: z.boolean(),
});
/** DELETE and enableNotifications answer `{}` (or nothing); only the status matters. */
const anything = z.unknown();

/** `GET /v0/meta/whoami`: `scopes` only for OAuth tokens, `email` only with `user.email:read`. */
export type AirtableUser = z.infer<typeof user>;
/** One base the token can reach; `permissionLevel` is none | read | comment | edit | create. */
export type AirtableBase = z.infer<typeof base>;
export type AirtableField = z.infer<typeof field>;
export type AirtableView = z.infer<typeof view>;
export type AirtableTable = z.infer<typeof table>;
/** `GET /v0/meta/bases/{baseId}/tables`. */
export type AirtableBaseSchema = z.infer<typeof schema>;
export type AirtableRecord = z.infer<typeof record>;
/** Airtable's webhook specification, `{options: {filters, includes?}}`, passed through as given. */
export type AirtableWebhookSpecification = z.infer<typeof specification>;
/** What `createWebhook` sends: no `notificationUrl` means no pings, only payloads to poll. */
export interface CreateWebhookInput {
  notificationUrl?: string;
  specification: AirtableWebhookSpecification;
}
/** The only answer that carries the MAC secret that signs pings: keep it. */
export type CreateWebhookResult = z.infer<typeof webhookCreated>;
/** One webhook as `GET /v0/bases/{baseId}/webhooks` lists it (never with its MAC secret). */
export type AirtableWebhookInfo = z.infer<typeof webhookInfo>;
/** One change payload; kept whole, unknown keys included, for whoever consumes it. */
export type AirtablePayload = z.infer<typeof payload>;
/** One page of payloads; `cursor` is the number to ask for next (the one asked for when empty). */
export type AirtablePayloadsPage = z.infer<typeof payloadsPage>;

/** Supplies the access token per request; `forceRefresh` is set once after a 401. */
export type AccessTokenSource = string | ((options?: { forceRefresh?: boolean }) => Promise<string>);

/** Knobs for {@link AirtableApi}. */
export interface AirtableApiOptions {
  accessToken: AccessTokenSource;
  /**
   * Airtable's Web API. Default https://api.airtable.com; pass `config.apiUrl` from
   * `readAirtableConfig()` to honour AIRTABLE_API_URL (e.g. the emulator).
   */
  apiUrl?: string;
  fetch?: typeof fetch;
  /** Total time one call (all its pages) may spend waiting out 429/503 before giving up. Default 60000. */
  maxRateLimitWaitMs?: number;
  /** How to wait (tests inject a recorder). Default: a timer. */
  sleep?: (ms: number) => Promise<void>;
  /** The clock for pacing, in ms. Default Date.now. */
  now?: () => number;
  /** Per HTTP request. Default 30000. */
  timeoutMs?: number;
}

/** Airtable asks clients to wait 30 seconds after a 429 when it gives no Retry-After. */
export const RATE_LIMIT_WAIT_MS = 30_000;
/** Airtable allows 5 requests per second per base; the 6th costs a 30-second penalty. */
export const REQUESTS_PER_SECOND_PER_BASE = 5;

const BASE_ID = /^app[A-Za-z0-9]{14}$/;
const TABLE_ID = /^tbl[A-Za-z0-9]{14}$/;
const WEBHOOK_ID = /^ach[A-Za-z0-9]{14}$/;
/** Airtable's largest payloads page. */
const MAX_PAYLOADS_PER_PAGE = 50;
const WEBHOOK_SCOPE = "webhook:manage";
const WEBHOOK_HINTS = {
  403: "Either the base was not granted on consent (authorize again and tick it), or the token lacks webhook:manage or a scope the specification's dataTypes read (tableData: data.records:read; tableFields, tableMetadata: schema.bases:read), or the user is not a creator of the base (needed to create, refresh, delete or toggle a webhook).",
  404: "The webhook does not exist (deleted, or expired more than 7 days ago) or another integration made it; listWebhooks(baseId) lists this token's webhooks. Create it again if it is still needed.",
  422: "Airtable refused the request: an expired webhook cannot be refreshed (create a new one), a specification must name only tables, views and fields of the base, and an integration may have 2 webhooks per base (details.type says which).",
};

/**
 * Checks a base id (`app` + 14 alphanumerics) and throws `invalid_input` with the fix if wrong.
 *
 * @example
 * assertBaseId("appABCDEFGHIJKLMN");
 */
export function assertBaseId(baseId: string): void {
  if (!BASE_ID.test(baseId)) {
    throw new AirlockError("invalid_input", `"${baseId.slice(0, 40)}" is not an Airtable base id.`, {
      hint: "A base id starts with 'app' followed by 14 letters or digits; listBases() returns the ids this token can reach.",
    });
  }
}

/**
 * The wait a `Retry-After` header asks for (delta-seconds or an HTTP date), or undefined.
 *
 * @example
 * retryAfterMs("7"); // 7000
 */
export function retryAfterMs(header: string | null, now: number = Date.now()): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

interface ApiErrorBody {
  type: string | undefined;
  message: string | undefined;
}

async function readErrorBody(response: Response): Promise<ApiErrorBody> {
  const json: unknown = await response.json().catch(() => undefined);
  const error = json && typeof json === "object" && "error" in json ? json.error : undefined;
  if (typeof error === "string") return { type: error, message: undefined };
  if (error && typeof error === "object") {
    const type = "type" in error && typeof error.type === "string" ? error.type : undefined;
    const message = "message" in error && typeof error.message === "string" ? error.message : undefined;
    return { type, message };
  }
  return { type: undefined, message: undefined };
}

function assertWebhookId(webhookId: string): void {
  if (!WEBHOOK_ID.test(webhookId)) {
    throw new AirlockError("invalid_input", `"${webhookId.slice(0, 40)}" is not an Airtable webhook id.`, {
      hint: "A webhook id starts with 'ach' followed by 14 letters or digits; createWebhook() returns it and listWebhooks(baseId) lists them.",
    });
  }
}

function apiError(
  status: number,
  body: ApiErrorBody,
  what: string,
  scope: string | undefined,
  overrides: Partial<Record<number, string>> = {},
): AirlockError {
  const said = [body.type, body.message?.slice(0, 300)].filter(Boolean).join(": ");
  const hints: Record<number, string> = {
    401: "The access token was rejected (expired, replaced by a refresh elsewhere, or revoked). Refresh it and retry once; if that fails too, the user must authorize again.",
    403: scope
      ? `Either the base was not granted when the user approved access (authorize again and tick it on the consent page), or the token lacks the ${scope} scope (enable it on the integration, request it and authorize again).`
      : "The token is not allowed to do this; check the integration's scopes and the bases granted on consent.",
    404: "The base or table does not exist, or this token cannot see it. Check the id against the bases and tables the token lists (listBases(), getBaseSchema(baseId)).",
    422: "Airtable could not process the request's parameters (unknown table or view name, pageSize above 100, …).",
  };
  return new AirlockError(
    "api_error",
    `Airtable answered HTTP ${status} to ${what}${said ? ` (${said})` : ""}.`,
    {
      hint:
        overrides[status] ?? hints[status] ?? "Retry later; if it persists, check Airtable's status page.",
      details: { status, type: body.type ?? null },
      retryable: status >= 500,
    },
  );
}

/**
 * Airtable's Web API, authenticated with an OAuth access token.
 *
 * @example
 * const api = new AirtableApi({ accessToken: () => manager.getAccessToken("me") });
 * const me = await api.whoami();
 * for (const b of await api.listBases()) print(b.id, b.name);
 */
export class AirtableApi {
  readonly #token: AccessTokenSource;
  readonly #apiUrl: string;
  /** What to check when the API URL looks wrong: the option given, or the default taken. */
  readonly #checkUrl: string;
  readonly #fetch: typeof fetch;
  readonly #maxWait: number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  /** Recent request slots per base, to stay under 5/s instead of paying 30 s penalties. */
  readonly #slots = new Map<string, { at: number }[]>();

  constructor(options: AirtableApiOptions) {
    this.#token = options.accessToken;
    this.#apiUrl = options.apiUrl ?? DEFAULT_API_URL;
    this.#checkUrl =
      options.apiUrl === undefined
        ? `No apiUrl was given, so Airtable's ${DEFAULT_API_URL} was called; to use AIRTABLE_API_URL, pass apiUrl: config.apiUrl (from readAirtableConfig()).`
        : `Check that ${options.apiUrl} (the apiUrl given, e.g. AIRTABLE_API_URL) is Airtable's Web API (default ${DEFAULT_API_URL}).`;
    this.#fetch = options.fetch ?? fetch;
    this.#maxWait = options.maxRateLimitWaitMs ?? 60_000;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Who the token belongs to (no scope needed).
   *
   * @example
   * const { id, email } = await api.whoami();
   */
  whoami(): Promise<AirtableUser> {
    return this.#request("GET", "/v0/meta/whoami", {}, user, undefined, { waitedMs: 0 });
  }

  /**
   * Every base the token reaches (all pages). Needs `schema.bases:read`.
   *
   * @example
   * const bases = await api.listBases(); // [{ id: "app…", name: "Sales", permissionLevel: "create" }]
   */
  async listBases(): Promise<AirtableBase[]> {
    const out: AirtableBase[] = [];
    const budget = { waitedMs: 0 };
    await this.#paginate(async (offset) => {
      const page = await this.#request(
        "GET",
        "/v0/meta/bases",
        { query: offset ? { offset } : {} },
        basesPage,
        "schema.bases:read",
        budget,
      );
      out.push(...page.bases);
      return page.offset;
    });
    return out;
  }

  /**
   * The tables of a base, with their fields and views. Needs `schema.bases:read`.
   *
   * @example
   * const { tables } = await api.getBaseSchema("appABCDEFGHIJKLMN");
   */
  async getBaseSchema(baseId: string): Promise<AirtableBaseSchema> {
    assertBaseId(baseId);
    return this.#request(
      "GET",
      `/v0/meta/bases/${baseId}/tables`,
      {},
      schema,
      "schema.bases:read",
      { waitedMs: 0 },
      baseId,
    );
  }

  /**
   * Every record of a table (all pages, up to `maxRecords`). Needs `data.records:read`.
   *
   * @example
   * const rows = await api.listRecords("appABCDEFGHIJKLMN", "Tasks", { view: "Grid view", maxRecords: 500 });
   */
  async listRecords(
    baseId: string,
    tableIdOrName: string,
    options: { pageSize?: number; maxRecords?: number; view?: string } = {},
  ): Promise<AirtableRecord[]> {
    assertBaseId(baseId);
    if (
      !tableIdOrName ||
      (tableIdOrName.startsWith("tbl") && tableIdOrName.length === 17 && !TABLE_ID.test(tableIdOrName))
    ) {
      throw new AirlockError(
        "invalid_input",
        "The table must be a table id (tbl + 14 letters or digits) or a table name.",
        {
          hint: "getBaseSchema(baseId) lists the tables of the base.",
        },
      );
    }
    const { pageSize, maxRecords, view } = options;
    if (pageSize !== undefined && (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100)) {
      throw new AirlockError("invalid_input", `pageSize must be an integer from 1 to 100, not ${pageSize}.`, {
        hint: "Leave it out to get Airtable's default of 100.",
      });
    }
    if (maxRecords !== undefined && (!Number.isInteger(maxRecords) || maxRecords < 1)) {
      throw new AirlockError("invalid_input", `maxRecords must be a positive integer, not ${maxRecords}.`, {
        hint: "Leave it out to read every record.",
      });
    }
    const query: Record<string, string> = {};
    if (pageSize !== undefined) query.pageSize = String(pageSize);
    if (maxRecords !== undefined) query.maxRecords = String(maxRecords);
    if (view !== undefined) query.view = view;
    const out: AirtableRecord[] = [];
    const budget = { waitedMs: 0 };
    await this.#paginate(async (offset) => {
      const page = await this.#request(
        "GET",
        `/v0/${baseId}/${encodeURIComponent(tableIdOrName)}`,
        { query: offset ? { ...query, offset } : query },
        recordsPage,
        "data.records:read",
        budget,
        baseId,
      );
      out.push(...page.records);
      return maxRecords !== undefined && out.length >= maxRecords ? undefined : page.offset;
    });
    return maxRecords === undefined ? out : out.slice(0, maxRecords);
  }

  /**
   * Creates a webhook on a base. Needs `webhook:manage`, and the scopes its dataTypes read.
   * A timeout throws `transient` though the webhook may exist: check listWebhooks before creating
   * again.
   *
   * @example
   * const { id, macSecretBase64 } = await api.createWebhook("appABCDEFGHIJKLMN", {
   *   notificationUrl: "https://example.com/airtable/notifications/1",
   *   specification: { options: { filters: { dataTypes: ["tableData"] } } },
   * });
   */
  async createWebhook(baseId: string, input: CreateWebhookInput): Promise<CreateWebhookResult> {
    assertBaseId(baseId);
    const { notificationUrl, specification: spec } = input;
    if (notificationUrl !== undefined && !/^https?:\/\/[^/]/.test(notificationUrl)) {
      throw new AirlockError("invalid_input", "notificationUrl must be an http or https URL.", {
        hint: "Pass the absolute URL that should receive the pings, or leave it out to poll payloads only.",
      });
    }
    const options: unknown = spec?.options;
    if (!options || typeof options !== "object" || Array.isArray(options)) {
      throw new AirlockError(
        "invalid_input",
        "The specification must be an object {options: {filters, …}}.",
        {
          hint: 'For example { options: { filters: { dataTypes: ["tableData"] } } }; see Airtable\'s webhooks specification.',
        },
      );
    }
    return this.#request(
      "POST",
      `/v0/bases/${baseId}/webhooks`,
      { body: { notificationUrl, specification: spec }, hints: WEBHOOK_HINTS },
      webhookCreated,
      WEBHOOK_SCOPE,
      { waitedMs: 0 },
      baseId,
    );
  }

  /**
   * This integration's webhooks on a base (expired ones stay listed for 7 more days).
   * Needs `webhook:manage`.
   *
   * @example
   * const { webhooks } = await api.listWebhooks("appABCDEFGHIJKLMN");
   */
  async listWebhooks(baseId: string): Promise<{ webhooks: AirtableWebhookInfo[] }> {
    assertBaseId(baseId);
    return this.#request(
      "GET",
      `/v0/bases/${baseId}/webhooks`,
      { hints: WEBHOOK_HINTS },
      webhooksList,
      WEBHOOK_SCOPE,
      { waitedMs: 0 },
      baseId,
    );
  }

  /**
   * Extends a webhook's life to 7 days from now; an expired one answers `api_error` 422.
   * Needs `webhook:manage`.
   *
   * @example
   * const { expirationTime } = await api.refreshWebhook("appABCDEFGHIJKLMN", "achABCDEFGHIJKLMN");
   */
  async refreshWebhook(baseId: string, webhookId: string): Promise<{ expirationTime: string | null }> {
    assertBaseId(baseId);
    assertWebhookId(webhookId);
    return this.#request(
      "POST",
      `/v0/bases/${baseId}/webhooks/${webhookId}/refresh`,
      { hints: WEBHOOK_HINTS },
      webhookRefreshed,
      WEBHOOK_SCOPE,
      { waitedMs: 0 },
      baseId,
    );
  }

  /**
   * Deletes a webhook; an unknown id answers `api_error` 404. Needs `webhook:manage`.
   *
   * @example
   * await api.deleteWebhook("appABCDEFGHIJKLMN", "achABCDEFGHIJKLMN");
   */
  async deleteWebhook(baseId: string, webhookId: string): Promise<void> {
    assertBaseId(baseId);
    assertWebhookId(webhookId);
    await this.#request(
      "DELETE",
      `/v0/bases/${baseId}/webhooks/${webhookId}`,
      { hints: WEBHOOK_HINTS },
      anything,
      WEBHOOK_SCOPE,
      { waitedMs: 0 },
      baseId,
    );
  }

  /**
   * One page of payloads from `cursor` (default 1), at most `limit` (1–50, default 50). One page
   * only, so a caller can persist each page (and the cursor after it) before asking for the next.
   * Listing also extends an active webhook's life. Needs `webhook:manage`.
   *
   * @example
   * const page = await api.listWebhookPayloads("appABCDEFGHIJKLMN", "achABCDEFGHIJKLMN", { cursor: 1 });
   * // save page.payloads and page.cursor; ask again while page.mightHaveMore
   */
  async listWebhookPayloads(
    baseId: string,
    webhookId: string,
    options: { cursor?: number; limit?: number } = {},
  ): Promise<AirtablePayloadsPage> {
    assertBaseId(baseId);
    assertWebhookId(webhookId);
    const { cursor, limit } = options;
    if (cursor !== undefined && (!Number.isInteger(cursor) || cursor < 1)) {
      throw new AirlockError("invalid_input", `cursor must be a positive integer, not ${cursor}.`, {
        hint: "Start at 1, then pass the cursor the previous page returned.",
      });
    }
    if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAYLOADS_PER_PAGE)) {
      throw new AirlockError(
        "invalid_input",
        `limit must be an integer from 1 to ${MAX_PAYLOADS_PER_PAGE}, not ${limit}.`,
        { hint: `Leave it out to get Airtable's maximum of ${MAX_PAYLOADS_PER_PAGE}.` },
      );
    }
    const query: Record<string, string> = {};
    if (cursor !== undefined) query.cursor = String(cursor);
    if (limit !== undefined) query.limit = String(limit);
    return this.#request(
      "GET",
      `/v0/bases/${baseId}/webhooks/${webhookId}/payloads`,
      { query, hints: WEBHOOK_HINTS },
      payloadsPage,
      WEBHOOK_SCOPE,
      { waitedMs: 0 },
      baseId,
    );
  }

  /**
   * Turns pings on or off; payloads are kept either way. Needs `webhook:manage`.
   *
   * @example
   * await api.enableWebhookNotifications("appABCDEFGHIJKLMN", "achABCDEFGHIJKLMN", false);
   */
  async enableWebhookNotifications(baseId: string, webhookId: string, enable: boolean): Promise<void> {
    assertBaseId(baseId);
    assertWebhookId(webhookId);
    if (typeof enable !== "boolean") {
      throw new AirlockError("invalid_input", `enable must be true or false, not ${String(enable)}.`, {
        hint: "Pass true to send pings to the notificationUrl again, false to stop them.",
      });
    }
    await this.#request(
      "POST",
      `/v0/bases/${baseId}/webhooks/${webhookId}/enableNotifications`,
      { body: { enable }, hints: WEBHOOK_HINTS },
      anything,
      WEBHOOK_SCOPE,
      { waitedMs: 0 },
      baseId,
    );
  }

  async #paginate(fetchPage: (offset: string | undefined) => Promise<string | undefined>): Promise<void> {
    const seen = new Set<string>();
    let offset: string | undefined;
    do {
      offset = await fetchPage(offset);
      // A server that hands back an offset it already gave would loop forever.
      if (offset !== undefined && seen.has(offset)) {
        throw new AirlockError("api_error", "Airtable repeated a pagination offset.", {
          hint: "Retry later; if it persists, report it.",
          details: { status: 200, type: "REPEATED_OFFSET" },
        });
      }
      if (offset !== undefined) seen.add(offset);
    } while (offset !== undefined);
  }

  /**
   * Books the next slot that keeps `baseId` within 5 requests in any one second, waits for it,
   * and returns a function to call when the answer arrives. A slot then counts from the answer:
   * Airtable counts arrivals, which happen somewhere between the two, so spacing the 6th send a
   * second after the 1st answer keeps any one second of arrivals at 5 however latency varies.
   */
  async #pace(baseId: string): Promise<() => void> {
    const now = this.#now();
    const slots = (this.#slots.get(baseId) ?? [])
      .filter((slot) => slot.at > now - 1000)
      .sort((a, b) => a.at - b.at);
    const fifthLatest = slots.at(-REQUESTS_PER_SECOND_PER_BASE);
    const slot = { at: fifthLatest === undefined ? now : Math.max(now, fifthLatest.at + 1050) };
    slots.push(slot);
    this.#slots.set(baseId, slots);
    if (slot.at > now) await this.#sleep(slot.at - now);
    return () => {
      slot.at = Math.max(slot.at, this.#now());
    };
  }

  async #accessToken(forceRefresh: boolean): Promise<string> {
    const token =
      typeof this.#token === "string"
        ? this.#token
        : await this.#token(forceRefresh ? { forceRefresh } : undefined);
    if (!token) {
      throw new AirlockError("not_logged_in", "No Airtable access token is available.", {
        hint: "The accessToken option gave nothing: pass a token, or a function that resolves to one.",
      });
    }
    return token;
  }

  /**
   * One call, retried while 429/503 waits fit the budget and once after a 401 with a fresh token.
   * `hints` replace the default fix for a status (a 404 on a webhook is not a missing base).
   */
  async #request<T>(
    method: "GET" | "POST" | "DELETE",
    path: string,
    options: { query?: Record<string, string>; body?: unknown; hints?: Partial<Record<number, string>> },
    shape: z.ZodType<T>,
    scope: string | undefined,
    budget: { waitedMs: number },
    baseId?: string,
  ): Promise<T> {
    const url = joinPath(this.#apiUrl, path);
    for (const [k, v] of Object.entries(options.query ?? {})) url.searchParams.set(k, v);
    const what = `${method} ${url.pathname}`;
    const headers: Record<string, string> = { accept: "application/json" };
    if (options.body !== undefined) headers["content-type"] = "application/json";
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    let retriedAfter401 = false;
    for (;;) {
      const token = await this.#accessToken(retriedAfter401);
      const answered = baseId ? await this.#pace(baseId) : undefined;
      let response: Response;
      try {
        response = await this.#fetch(url, {
          method,
          headers: { authorization: `Bearer ${token}`, ...headers },
          ...(body === undefined ? {} : { body }),
          redirect: "manual",
          signal: AbortSignal.timeout(this.#timeoutMs),
        });
      } catch (err) {
        const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
        throw new AirlockError(
          "transient",
          `${method} ${url.origin}${url.pathname} ${timedOut ? "timed out" : "could not reach Airtable"}.`,
          {
            hint: `Check the network. ${this.#checkUrl} Then retry.`,
            ...(timedOut ? {} : { cause: err }),
            details: { reason: timedOut ? "timeout" : "network" },
          },
        );
      } finally {
        answered?.();
      }
      if (response.ok) {
        const json: unknown = await response.json().catch(() => undefined);
        const parsed = shape.safeParse(json);
        if (!parsed.success) {
          throw new AirlockError(
            "api_error",
            `The answer to ${method} ${url.origin}${url.pathname} does not look like Airtable's.`,
            { hint: this.#checkUrl, details: { status: response.status, type: "UNEXPECTED_RESPONSE" } },
          );
        }
        return parsed.data;
      }
      const error = await readErrorBody(response);
      if (response.status === 429 || response.status === 503) {
        const wait = retryAfterMs(response.headers.get("retry-after")) ?? RATE_LIMIT_WAIT_MS;
        if (budget.waitedMs + wait > this.#maxWait) {
          throw response.status === 429
            ? new AirlockError("rate_limited", `Airtable rate-limited ${what} and the wait budget ran out.`, {
                hint: "Airtable allows 5 requests per second per base; slow down and retry in 30 seconds.",
                details: { status: 429, type: error.type ?? null, waited_ms: budget.waitedMs },
              })
            : new AirlockError("transient", `Airtable was unavailable for ${what} (HTTP 503).`, {
                hint: "Retry later.",
                details: { status: 503, type: error.type ?? null, waited_ms: budget.waitedMs },
              });
        }
        await this.#sleep(wait);
        budget.waitedMs += wait;
        continue;
      }
      if (response.status === 401 && typeof this.#token === "function" && !retriedAfter401) {
        retriedAfter401 = true;
        continue;
      }
      throw apiError(response.status, error, what, scope, options.hints);
    }
  }
}
