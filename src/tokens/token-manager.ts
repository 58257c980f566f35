/**
 * "Give me a valid access token": the algorithm of DESIGN.md ("The core promise"), steps 1–9.
 *
 * - In-process single-flight per identifier, and a hot-path cache keyed by identifier that answers
 *   a valid token with no database round trip (invalidated by the store's change notifications and
 *   re-checked after a short TTL).
 * - Across processes: a lease claimed with one conditional UPDATE, fenced on the row version; the
 *   refresh token sent upstream is always one read under our own lease; the rotated tokens are saved,
 *   fenced on the old version, before anyone sees them. Losers wait for the version to move.
 * - A rejected grant becomes `reauth_required` exactly once; transient failures back off with
 *   jitter and keep the connection `active`.
 */
import { hostname } from "node:os";
import { performance } from "node:perf_hooks";
import type { TokenRefresher, TokenSet } from "../airtable/types.js";
import { AirlockError, isAirlockError } from "../errors.js";
import { type Logger, silentLogger } from "../log.js";
import type { Metrics } from "../metrics.js";
import type { ConnectionRecord, Store } from "../store/types.js";

export interface TokenManagerOptions {
  store: Store;
  refresher: TokenRefresher;
  /** A token is refreshed when it expires within this window (default 5 minutes). */
  skewMs?: number | undefined;
  /** How long a refresh lease lasts (default 30 s); a holder that dies blocks others at most this long. */
  leaseMs?: number | undefined;
  /** Give up waiting on the token endpoint after this long (default 10 s; must be well inside the lease). */
  refreshTimeoutMs?: number | undefined;
  /** The clock (tests inject one). */
  now?: (() => Date) | undefined;
  logger?: Logger | undefined;
  metrics?: Metrics | undefined;
  /** Names this instance in lease rows (default host:pid:random). */
  owner?: string | undefined;
  /**
   * How long a cached token is served before the row is looked at again, even without a change
   * notification (default 10 s when the store announces changes across processes, else 1 s).
   */
  cacheTtlMs?: number | undefined;
  /** First transient-failure backoff (default 2 s); doubles per failure, with jitter, up to 5 minutes. */
  backoffBaseMs?: number | undefined;
  /** Write a `connection.refreshed` event on every successful refresh (default false). */
  refreshedEvents?: boolean | undefined;
}

export interface AccessToken {
  accessToken: string;
  expiresAt: Date;
  /** The row version the token belongs to. */
  version: number;
}

export interface GetAccessTokenOptions {
  /** Refresh even if the stored token is still valid (subject to the two conditions below). */
  force?: boolean | undefined;
  /**
   * With `force`: the upstream rejected this token (a 401). Refresh only if the stored token is
   * still this one; otherwise someone already refreshed and the stored token is returned.
   */
  rejectedAccessToken?: string | undefined;
  /** With `force`: refresh only if the tokens were last refreshed before this time (keep-alive). */
  refreshedBefore?: Date | undefined;
}

interface CacheEntry {
  token: AccessToken;
  /** Epoch ms after which the token is inside the skew window. */
  freshUntil: number;
  /** Epoch ms after which the row must be looked at again. */
  recheckAt: number;
}

interface Flight {
  promise: Promise<AccessToken>;
  forced: boolean;
}

type Settled =
  | { ok: true; tokens: TokenSet; seconds: number }
  | { ok: false; error: unknown; seconds: number };
type Outcome = { done: AccessToken } | { retry: ConnectionRecord };

const DEFAULT_SKEW_MS = 5 * 60_000;
const DEFAULT_LEASE_MS = 30_000;
const DEFAULT_REFRESH_TIMEOUT_MS = 10_000;
const MAX_BACKOFF_MS = 5 * 60_000;
/** In degraded mode (refresh failing), a token with at least this much life left is still handed out. */
const MIN_USABLE_MS = 10_000;
const POLL_MIN_MS = 10;
const POLL_MAX_MS = 250;

/**
 * @example
 * const tokens = new TokenManager({ store, refresher: oauth, metrics, logger });
 * const { accessToken } = await tokens.getAccessToken("user_123");
 * // after Airtable answered 401 to that token:
 * const retry = await tokens.getAccessToken("user_123", { force: true, rejectedAccessToken: accessToken });
 */
export class TokenManager {
  readonly #store: Store;
  readonly #refresher: TokenRefresher;
  readonly #skewMs: number;
  readonly #leaseMs: number;
  readonly #timeoutMs: number;
  readonly #nowMs: () => number;
  readonly #log: Logger;
  readonly #metrics: Metrics | undefined;
  readonly #owner: string;
  readonly #cacheTtlMs: number;
  readonly #backoffBaseMs: number;
  readonly #refreshedEvents: boolean;
  readonly #cache = new Map<string, CacheEntry>();
  /** The newest version announced while a flight was reading, so a slow read never caches an older row. */
  readonly #latest = new Map<string, number>();
  readonly #flights = new Map<string, Flight>();
  readonly #waiters = new Map<string, Set<() => void>>();
  readonly #background = new Set<Promise<void>>();
  readonly #unsubscribe: (() => void) | undefined;
  #leaseSeq = 0;

  constructor(options: TokenManagerOptions) {
    this.#store = options.store;
    this.#refresher = options.refresher;
    this.#skewMs = options.skewMs ?? DEFAULT_SKEW_MS;
    this.#leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.#timeoutMs =
      options.refreshTimeoutMs ?? Math.min(DEFAULT_REFRESH_TIMEOUT_MS, Math.floor(this.#leaseMs / 3));
    if (this.#timeoutMs >= this.#leaseMs) {
      throw new AirlockError(
        "config_invalid",
        "The refresh timeout must be shorter than the refresh lease.",
        {
          hint: `Use a refresh timeout well below the lease (${this.#leaseMs} ms), e.g. a third of it.`,
        },
      );
    }
    const now = options.now;
    this.#nowMs = now ? () => now().getTime() : Date.now;
    this.#log = options.logger ?? silentLogger;
    this.#metrics = options.metrics;
    this.#owner = options.owner ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
    this.#cacheTtlMs = options.cacheTtlMs ?? (options.store.kind === "postgres" ? 10_000 : 1_000);
    this.#backoffBaseMs = options.backoffBaseMs ?? 2_000;
    this.#refreshedEvents = options.refreshedEvents ?? false;
    this.#unsubscribe = options.store.onConnectionChanged?.((identifier, version) =>
      this.#changed(identifier, version),
    );
  }

  /**
   * A token valid for at least the skew, from the cache when possible. Throws `not_found`,
   * `reauth_required` (details `{reason}`) or a retryable `transient`.
   *
   * @example
   * const { accessToken, expiresAt } = await tokens.getAccessToken("user_123");
   */
  getAccessToken(identifier: string, options?: GetAccessTokenOptions): Promise<AccessToken> {
    if (options?.force !== true) {
      const entry = this.#cache.get(identifier);
      if (entry !== undefined) {
        const now = this.#nowMs();
        if (now < entry.freshUntil && now < entry.recheckAt) return Promise.resolve(entry.token);
      }
    }
    return this.#join(identifier, options ?? {});
  }

  /**
   * Forgets the cached token (after this process deleted or changed the connection out of band).
   *
   * @example
   * await store.deleteConnection("user_123", { type: "connection.deleted" });
   * tokens.invalidate("user_123");
   */
  invalidate(identifier: string): void {
    this.#cache.delete(identifier);
    this.#wake(identifier);
  }

  /**
   * Stops listening for changes and waits (briefly) for refreshes still running in the background.
   *
   * @example
   * await tokens.close();
   * await store.close();
   */
  async close(): Promise<void> {
    this.#unsubscribe?.();
    this.#cache.clear();
    for (const id of [...this.#waiters.keys()]) this.#wake(id);
    if (this.#background.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...this.#background]),
        new Promise((resolve) => {
          timer = setTimeout(resolve, this.#timeoutMs);
        }),
      ]);
      clearTimeout(timer);
    }
  }

  // Step 1: single-flight ---------------------------------------------------------------------

  async #join(identifier: string, options: GetAccessTokenOptions): Promise<AccessToken> {
    const forced = options.force === true;
    for (;;) {
      const flight = this.#flights.get(identifier);
      if (!flight) break;
      if (!forced) return flight.promise;
      if (!flight.forced) {
        // A plain read in progress may not refresh; let it finish, then start our own forced flight.
        await flight.promise.catch(() => undefined);
        continue;
      }
      const result = await flight.promise;
      if (options.rejectedAccessToken === undefined || result.accessToken !== options.rejectedAccessToken) {
        return result;
      }
    }
    const promise = this.#acquire(identifier, options).finally(() => {
      if (this.#flights.get(identifier)?.promise === promise) {
        this.#flights.delete(identifier);
        this.#latest.delete(identifier);
      }
    });
    this.#flights.set(identifier, { promise, forced });
    return promise;
  }

  // Steps 2–8 ---------------------------------------------------------------------------------

  async #acquire(identifier: string, options: GetAccessTokenOptions): Promise<AccessToken> {
    let row = await this.#read(identifier);
    const firstVersion = row.version;
    for (;;) {
      this.#assertActive(row);
      const now = this.#nowMs();
      if (!this.#needsRefresh(row, options, firstVersion, now)) return this.#remember(row);
      const nextAttempt = row.nextRefreshAttemptAt?.getTime();
      if (nextAttempt !== undefined && nextAttempt > now) {
        // Backing off after transient failures: no upstream call until the recorded time.
        this.#metrics?.refreshAttempts.inc({ outcome: "skipped" });
        return this.#degraded(row, options, now, undefined);
      }
      const owner = `${this.#owner}#${++this.#leaseSeq}`;
      const claim = await this.#store.claimRefreshLease(identifier, {
        owner,
        version: row.version,
        now: new Date(now),
        leaseMs: this.#leaseMs,
      });
      if (!claim.claimed) {
        row = await this.#waitForOther(identifier, row);
        continue;
      }
      // The refresh token we send is the one read under our own lease.
      const leased = await this.#read(identifier);
      if (leased.leaseOwner !== owner || leased.version !== row.version) {
        row = leased;
        continue;
      }
      const outcome = await this.#refresh(leased, owner, claim.takeover, options);
      if ("done" in outcome) return outcome.done;
      row = outcome.retry;
    }
  }

  #needsRefresh(
    row: ConnectionRecord,
    options: GetAccessTokenOptions,
    firstVersion: number,
    now: number,
  ): boolean {
    if (now >= this.#freshUntil(row)) return true;
    if (options.force !== true) return false;
    if (options.rejectedAccessToken !== undefined) return row.accessToken === options.rejectedAccessToken;
    if (options.refreshedBefore !== undefined) {
      return (
        row.lastRefreshedAt === null || row.lastRefreshedAt.getTime() < options.refreshedBefore.getTime()
      );
    }
    // A bare force is satisfied by any refresh that landed since we first looked.
    return row.version === firstVersion;
  }

  /** Step 4: someone else holds the lease. Wait until the version moves, the lease goes, or it expires. */
  async #waitForOther(identifier: string, seen: ConnectionRecord): Promise<ConnectionRecord> {
    const started = performance.now();
    const giveUpAt = started + this.#leaseMs + this.#timeoutMs;
    let delay = POLL_MIN_MS;
    try {
      for (;;) {
        const row = await this.#read(identifier);
        if (row.version !== seen.version || row.status !== "active") return row;
        const leaseUntil = row.leaseUntil?.getTime();
        if (leaseUntil === undefined || leaseUntil <= this.#nowMs()) return row;
        if (performance.now() > giveUpAt) {
          throw new AirlockError("transient", `Timed out waiting for another refresh of "${identifier}".`, {
            hint: "Retry in a few seconds; another instance holds the refresh lease.",
            details: { retry_after_seconds: 1 },
          });
        }
        await this.#sleepOrWake(identifier, delay);
        delay = Math.min(delay * 2, POLL_MAX_MS);
      }
    } finally {
      this.#metrics?.leaseWaits.observe((performance.now() - started) / 1000);
    }
  }

  /** Steps 5–8, holding the lease. */
  async #refresh(
    leased: ConnectionRecord,
    owner: string,
    takeover: boolean,
    options: GetAccessTokenOptions,
  ): Promise<Outcome> {
    if (leased.refreshTokenExpiresAt.getTime() <= this.#nowMs()) {
      // Known dead: sending it would only earn an invalid_grant (and count against the integration).
      return this.#markDead(leased, "refresh_expired");
    }
    const started = performance.now();
    const call: Promise<Settled> = Promise.resolve()
      .then(() => this.#refresher.refresh(leased.refreshToken))
      .then(
        (tokens) => ({ ok: true, tokens, seconds: (performance.now() - started) / 1000 }),
        (error: unknown) => ({ ok: false, error, seconds: (performance.now() - started) / 1000 }),
      );
    let timer: NodeJS.Timeout | undefined;
    const settled = await Promise.race([
      call,
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), this.#timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (settled === undefined) {
      // The request is still out: Airtable may yet rotate the token. Keep the lease (never release
      // it here, or someone else would send the same refresh token); a late answer is still saved
      // under it, and if none comes the lease expires and the next holder knows it is a takeover.
      this.#metrics?.refreshAttempts.inc({ outcome: "transient" });
      this.#log.warn(
        { identifier: leased.identifier, timeoutMs: this.#timeoutMs },
        "token refresh timed out",
      );
      this.#track(
        call.then(async (late) => {
          await this.#settle(leased, owner, takeover, late, options, false).catch((err: unknown) => {
            if (!isAirlockError(err))
              this.#log.error({ err, identifier: leased.identifier }, "late refresh failed");
          });
        }),
      );
      return { done: this.#degraded(leased, options, this.#nowMs(), undefined) };
    }
    return this.#settle(leased, owner, takeover, settled, options, true);
  }

  async #settle(
    leased: ConnectionRecord,
    owner: string,
    takeover: boolean,
    settled: Settled,
    options: GetAccessTokenOptions,
    count: boolean,
  ): Promise<Outcome> {
    const id = leased.identifier;
    if (count) this.#metrics?.refreshLatency.observe(settled.seconds);
    if (settled.ok) {
      if (count) this.#metrics?.refreshAttempts.inc({ outcome: "success" });
      const { tokens } = settled;
      const savedAt = new Date(this.#nowMs());
      const saved = await this.#store.saveRefreshedTokens(
        id,
        {
          owner,
          version: leased.version,
          tokens: {
            scopes: tokens.scopes,
            accessToken: tokens.accessToken,
            refreshToken: tokens.refreshToken,
            accessTokenExpiresAt: tokens.accessTokenExpiresAt,
            refreshTokenExpiresAt: tokens.refreshTokenExpiresAt,
          },
          now: savedAt,
        },
        this.#refreshedEvents
          ? { type: "connection.refreshed", data: { version: leased.version + 1 } }
          : undefined,
      );
      if (!saved) {
        // Our lease was taken over (it expired): these tokens were never stored, so nobody may use them.
        this.#log.warn({ identifier: id }, "refreshed tokens discarded: the lease was lost before saving");
        return { retry: await this.#read(id) };
      }
      this.#log.info(
        { identifier: id, version: leased.version + 1, seconds: settled.seconds },
        "token refreshed",
      );
      const token = this.#remember({
        identifier: id,
        accessToken: tokens.accessToken,
        accessTokenExpiresAt: tokens.accessTokenExpiresAt,
        lastRefreshedAt: savedAt,
        version: leased.version + 1,
      });
      this.#wake(id);
      return { done: token };
    }

    const { error } = settled;
    if (isAirlockError(error, "reauth_required")) {
      if (count) this.#metrics?.refreshAttempts.inc({ outcome: takeover ? "interrupted" : "invalid_grant" });
      return this.#markDead(leased, takeover ? "refresh_interrupted" : "invalid_grant");
    }

    // Transient (network, timeout, 5xx, 409, 429), or something unexpected: back off, stay active.
    if (count) this.#metrics?.refreshAttempts.inc({ outcome: "transient" });
    const now = this.#nowMs();
    const failures = leased.refreshFailures + 1;
    const nextAttemptAt = new Date(now + this.#backoff(failures));
    // No HTTP status means no answer (network error, timeout): the request may still have rotated
    // the tokens, so a later invalid_grant is reported as an interrupted refresh.
    const uncertain = !(isAirlockError(error) && typeof error.details?.status === "number");
    await this.#store.releaseRefreshLease(id, { owner, failed: true, nextAttemptAt, uncertain });
    this.#log.warn(
      {
        identifier: id,
        failures,
        uncertain,
        nextAttemptAt: nextAttemptAt.toISOString(),
        err: describe(error),
      },
      "token refresh failed; backing off",
    );
    this.#wake(id);
    if (isAirlockError(error) && !error.retryable) throw error;
    return { done: this.#degraded(leased, options, now, error) };
  }

  /** Step 7: the grant is dead unless someone else refreshed meanwhile. Exactly one event. */
  async #markDead(leased: ConnectionRecord, reason: string): Promise<Outcome> {
    const id = leased.identifier;
    const current = await this.#read(id);
    if (current.version !== leased.version) return { retry: current };
    const marked = await this.#store.markReauthRequired(
      id,
      { version: leased.version, reason, now: new Date(this.#nowMs()) },
      { type: "connection.reauth_required", data: { reason } },
    );
    if (marked) this.#log.warn({ identifier: id, reason }, "connection needs re-authorization");
    this.#cache.delete(id);
    this.#wake(id);
    return { retry: await this.#read(id) };
  }

  /** After a failed or skipped refresh: the current token if it still works, else a retryable error. */
  #degraded(row: ConnectionRecord, options: GetAccessTokenOptions, now: number, cause: unknown): AccessToken {
    const usable =
      row.accessTokenExpiresAt.getTime() - now > MIN_USABLE_MS &&
      row.accessToken !== options.rejectedAccessToken;
    if (usable) {
      return { accessToken: row.accessToken, expiresAt: row.accessTokenExpiresAt, version: row.version };
    }
    const retryAt = row.nextRefreshAttemptAt?.getTime() ?? now + this.#backoffBaseMs;
    throw new AirlockError(
      "transient",
      `The access token of "${row.identifier}" could not be refreshed right now.`,
      {
        hint: "Airtable's token endpoint is failing or slow; retry shortly. The connection stays active.",
        details: { retry_after_seconds: Math.max(1, Math.ceil((retryAt - now) / 1000)) },
        ...(cause === undefined ? {} : { cause }),
      },
    );
  }

  // Reading, caching, waking -----------------------------------------------------------------------

  async #read(identifier: string): Promise<ConnectionRecord> {
    const row = await this.#store.getConnection(identifier);
    if (!row) {
      this.#cache.delete(identifier);
      throw new AirlockError("not_found", `No connection named "${identifier}".`, {
        hint: "Connect it first: create a connect link for this identifier and have the user authorize.",
      });
    }
    return row;
  }

  #assertActive(row: ConnectionRecord): void {
    if (row.status === "active") return;
    this.#cache.delete(row.identifier);
    const reason = row.statusReason ?? row.status;
    throw new AirlockError(
      "reauth_required",
      `Connection "${row.identifier}" must be authorized again (${reason}).`,
      {
        hint: "Ask the user to reconnect: create a new connect link for this identifier.",
        details: { reason },
      },
    );
  }

  #remember(
    row: Pick<
      ConnectionRecord,
      "identifier" | "accessToken" | "accessTokenExpiresAt" | "lastRefreshedAt" | "version"
    >,
  ): AccessToken {
    const token: AccessToken = Object.freeze({
      accessToken: row.accessToken,
      expiresAt: row.accessTokenExpiresAt,
      version: row.version,
    });
    const latest = this.#latest.get(row.identifier);
    if (latest === undefined || row.version >= latest) {
      this.#cache.set(row.identifier, {
        token,
        freshUntil: this.#freshUntil(row),
        recheckAt: this.#nowMs() + this.#cacheTtlMs,
      });
    }
    return token;
  }

  /**
   * When a token stops counting as fresh: `skew` before expiry, but never earlier than half its
   * lifetime, so a provider with short-lived tokens (shorter than twice the skew) does not trigger a
   * refresh on every call.
   */
  #freshUntil(row: Pick<ConnectionRecord, "accessTokenExpiresAt" | "lastRefreshedAt">): number {
    const expires = row.accessTokenExpiresAt.getTime();
    const obtained = row.lastRefreshedAt?.getTime();
    const skew =
      obtained === undefined ? this.#skewMs : Math.min(this.#skewMs, Math.max(0, (expires - obtained) / 2));
    return expires - skew;
  }

  #changed(identifier: string, version: number): void {
    // Only a read in flight can be overtaken by this change; remember it for that read's sake.
    if (this.#flights.has(identifier)) this.#latest.set(identifier, version);
    const cached = this.#cache.get(identifier);
    if (cached && cached.token.version !== version) this.#cache.delete(identifier);
    this.#wake(identifier);
  }

  #wake(identifier: string): void {
    const waiters = this.#waiters.get(identifier);
    if (!waiters) return;
    this.#waiters.delete(identifier);
    for (const wake of waiters) wake();
  }

  #sleepOrWake(identifier: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let waiters = this.#waiters.get(identifier);
      if (!waiters) {
        waiters = new Set();
        this.#waiters.set(identifier, waiters);
      }
      const set = waiters;
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      set.add(done);
    });
  }

  #track(task: Promise<void>): void {
    this.#background.add(task);
    void task.finally(() => this.#background.delete(task));
  }

  /** Exponential backoff with jitter in [d/2, d]: at most 6 attempts per connection in the first minute. */
  #backoff(failures: number): number {
    const ceiling = Math.min(MAX_BACKOFF_MS, this.#backoffBaseMs * 2 ** Math.min(failures - 1, 20));
    return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
  }
}

function describe(error: unknown): { code?: string; message: string } {
  if (isAirlockError(error)) return { code: error.code, message: error.message };
  return { message: error instanceof Error ? error.message : String(error) };
}
