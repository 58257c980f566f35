/**
 * "Give me a valid access token": the algorithm of ARCHITECTURE.md ("The token algorithm").
 *
 * - In-process single-flight per identifier, and a hot-path cache keyed by identifier that answers
 *   a valid token with no database round trip (invalidated by the store's change notifications and
 *   re-checked after a short TTL).
 * - Across processes: a lease claimed with one conditional UPDATE, fenced on the row version; the
 *   refresh token sent upstream is always one read under our own lease, and it is never sent again
 *   while a request with it may still be in flight (the lease outlives the one refresh timeout).
 * - Rotated tokens go to the {@link RotationKeeper} (journal + fenced save, held in memory and
 *   retried while the store fails) before anyone sees them.
 * - Callers wait at most `tokenWaitMs`: then they get the current token if it still works, else a
 *   retryable `transient` error; the refresh itself goes on.
 * - A rejected grant becomes `reauth_required` exactly once; transient failures back off with
 *   jitter and keep the connection `active`.
 */
import { hostname } from "node:os";
import { performance } from "node:perf_hooks";
import type { TokenSet } from "../airtable/types.js";
import { AirlockError, isAirlockError } from "../shared/errors.js";
import { type Logger, silentLogger } from "../shared/log.js";
import type { Metrics } from "../shared/metrics.js";
import { TIMED_OUT, within } from "../shared/timers.js";
import type { RotationJournal } from "../store/journal.js";
import type { ConnectionRecord, Store } from "../store/types.js";
import type { TokenRefresher } from "./refresher.js";
import { RotationKeeper } from "./rotation-keeper.js";

export interface TokenManagerOptions {
  store: Store;
  refresher: TokenRefresher;
  /** A token is refreshed when it expires within this window (default 5 minutes). */
  skewMs?: number | undefined;
  /**
   * The one timeout of a token request (default 30 s): the request is aborted then, and its refresh
   * token is not sent again before the lease it was sent under has ended.
   */
  refreshTimeoutMs?: number | undefined;
  /**
   * How long a refresh lease lasts (default: the refresh timeout + 90 s, so a request Airtable is
   * still processing after we gave up cannot overlap the next one); a holder that dies blocks
   * refreshes of that connection at most this long.
   */
  leaseMs?: number | undefined;
  /** How long a caller waits for a refresh before it gets the current token or a retryable error (default 10 s). */
  tokenWaitMs?: number | undefined;
  /** Where rotated tokens wait for the store (see store/journal.ts); without it, memory only. */
  journal?: RotationJournal | undefined;
  /** How often the journal is checked for rotations another process left behind (default 10 s). */
  journalScanIntervalMs?: number | undefined;
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
  /**
   * At most this many connections' tokens are kept in memory (default 10,000); beyond it the one
   * cached longest ago is dropped and read again when next asked for. Memory stays flat however many
   * connections the keep-alive loop walks through.
   */
  cacheMaxEntries?: number | undefined;
  /** First transient-failure backoff (default 2 s); doubles per failure, with jitter, up to 5 minutes. */
  backoffBaseMs?: number | undefined;
  /** Write a `connection.refreshed` event with every successful refresh, in the same transaction (default true). */
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

/** The newest row a flight has read: what a caller past its wait deadline is answered from. */
interface Seen {
  row: ConnectionRecord | undefined;
}

interface Flight {
  promise: Promise<AccessToken>;
  forced: boolean;
  seen: Seen;
}

type Settled = { ok: true; tokens: TokenSet } | { ok: false; error: unknown };
type Outcome = { done: AccessToken } | { retry: ConnectionRecord };

const DEFAULT_SKEW_MS = 5 * 60_000;
const DEFAULT_REFRESH_TIMEOUT_MS = 30_000;
const DEFAULT_LEASE_MARGIN_MS = 90_000;
const DEFAULT_TOKEN_WAIT_MS = 10_000;
/** Network failures that happen before a request is sent: Airtable cannot have rotated. */
const NEVER_SENT = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);
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
  readonly #tokenWaitMs: number;
  readonly #nowMs: () => number;
  readonly #log: Logger;
  readonly #metrics: Metrics | undefined;
  readonly #owner: string;
  readonly #cacheTtlMs: number;
  readonly #cacheMaxEntries: number;
  readonly #backoffBaseMs: number;
  readonly #refreshedEvents: boolean;
  readonly #cache = new Map<string, CacheEntry>();
  /** The newest version announced while a flight was reading, so a slow read never caches an older row. */
  readonly #latest = new Map<string, number>();
  readonly #flights = new Map<string, Flight>();
  readonly #waiters = new Map<string, Set<() => void>>();
  readonly #keeper: RotationKeeper;
  readonly #journalScan: NodeJS.Timeout | undefined;
  readonly #unsubscribe: (() => void) | undefined;
  #leaseSeq = 0;

  constructor(options: TokenManagerOptions) {
    this.#store = options.store;
    this.#refresher = options.refresher;
    this.#skewMs = options.skewMs ?? DEFAULT_SKEW_MS;
    this.#timeoutMs =
      options.refreshTimeoutMs ??
      (options.leaseMs === undefined
        ? DEFAULT_REFRESH_TIMEOUT_MS
        : Math.min(DEFAULT_REFRESH_TIMEOUT_MS, Math.floor(options.leaseMs / 3)));
    this.#leaseMs = options.leaseMs ?? this.#timeoutMs + DEFAULT_LEASE_MARGIN_MS;
    this.#tokenWaitMs = options.tokenWaitMs ?? DEFAULT_TOKEN_WAIT_MS;
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
    this.#cacheMaxEntries = Math.max(1, options.cacheMaxEntries ?? 10_000);
    this.#backoffBaseMs = options.backoffBaseMs ?? 2_000;
    this.#refreshedEvents = options.refreshedEvents ?? true;
    this.#keeper = new RotationKeeper({
      store: options.store,
      journal: options.journal,
      leaseMs: this.#leaseMs,
      nowMs: this.#nowMs,
      logger: this.#log,
      metrics: this.#metrics,
      eventFor: (rotation) =>
        this.#refreshedEvents
          ? { type: "connection.refreshed", data: { version: rotation.baseVersion + 1 } }
          : undefined,
      onSettled: (identifier) => {
        this.#cache.delete(identifier);
        this.#wake(identifier);
      },
    });
    if (options.journal) {
      this.#journalScan = setInterval(() => {
        this.recoverJournal().catch((err: unknown) =>
          this.#log.warn({ err }, "rotation journal scan failed; retrying on the next pass"),
        );
      }, options.journalScanIntervalMs ?? 10_000);
      this.#journalScan.unref();
    }
    this.#unsubscribe = options.store.onConnectionChanged?.((identifier, version) =>
      this.#changed(identifier, version),
    );
  }

  /**
   * Applies rotations that another process journaled but never saved (it died, or the store was
   * down), fenced on version. Run at start before serving; also runs on a timer.
   *
   * @example
   * await tokens.recoverJournal(); // before the HTTP server accepts requests
   */
  recoverJournal(): Promise<number> {
    return this.#keeper.recover();
  }

  /** Rotations this process holds in memory because the store has not confirmed them (for /healthz). */
  get heldRotations(): number {
    return this.#keeper.heldCount;
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
      // Step 1, the hot path: no database access while the cached token is fresh.
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
   * await store.revokeConnection("user_123", { reason: "disconnected", now: new Date() }, { type: "connection.deleted" });
   * tokens.invalidate("user_123");
   */
  invalidate(identifier: string): void {
    this.#cache.delete(identifier);
    this.#keeper.drop(identifier);
    this.#wake(identifier);
  }

  /**
   * Finishes in-flight refreshes and the saves of their rotations, at most `deadlineMs` in all
   * (default: the refresh timeout), then stops listening. What the store still has not confirmed
   * by then stays in the journal for the next start.
   *
   * @example
   * await tokens.close({ deadlineMs: 30_000 });
   * await store.close();
   */
  async close(options: { deadlineMs?: number } = {}): Promise<void> {
    const deadline = performance.now() + (options.deadlineMs ?? this.#timeoutMs);
    clearInterval(this.#journalScan);
    const flights = [...this.#flights.values()].map((flight) => flight.promise);
    if (flights.length > 0) {
      await within(Promise.allSettled(flights), deadline - performance.now());
    }
    await this.#keeper.drain(Math.max(0, deadline - performance.now()));
    this.#unsubscribe?.();
    this.#cache.clear();
    for (const id of [...this.#waiters.keys()]) this.#wake(id);
  }

  // Step 2 (the steps are ARCHITECTURE.md's): single flight, and the caller's wait deadline ------

  async #join(identifier: string, options: GetAccessTokenOptions): Promise<AccessToken> {
    const forced = options.force === true;
    for (;;) {
      const flight = this.#flights.get(identifier);
      if (!flight) break;
      if (!forced) return this.#within(flight, options);
      if (!flight.forced) {
        // A plain read in progress may not refresh; let it finish, then start our own forced flight.
        await flight.promise.catch(() => undefined);
        continue;
      }
      const result = await this.#within(flight, options);
      if (options.rejectedAccessToken === undefined || result.accessToken !== options.rejectedAccessToken) {
        return result;
      }
    }
    const seen: Seen = { row: undefined };
    const promise = this.#acquire(identifier, options, seen).finally(() => {
      if (this.#flights.get(identifier)?.promise === promise) {
        this.#flights.delete(identifier);
        this.#latest.delete(identifier);
      }
    });
    const flight: Flight = { promise, forced, seen };
    this.#flights.set(identifier, flight);
    return this.#within(flight, options);
  }

  /** The flight's answer, or after `tokenWaitMs` the current token if it still works, else `transient`. */
  async #within(flight: Flight, options: GetAccessTokenOptions): Promise<AccessToken> {
    const answer = await within(flight.promise, this.#tokenWaitMs);
    if (answer !== TIMED_OUT) return answer;
    const row = flight.seen.row;
    if (row === undefined) {
      throw new AirlockError("transient", "The token store did not answer in time.", {
        hint: "Retry shortly; check the database if it keeps happening.",
        details: { retry_after_seconds: 2 },
      });
    }
    return this.#degraded(row, options, this.#nowMs(), undefined, "refreshing");
  }

  // Steps 3–10 --------------------------------------------------------------------------------

  async #acquire(identifier: string, options: GetAccessTokenOptions, seen: Seen): Promise<AccessToken> {
    const held = this.#fromHeld(identifier, options);
    if (held) return held;
    let row = await this.#read(identifier);
    seen.row = row;
    const firstVersion = row.version;
    for (;;) {
      this.#assertActive(row);
      const now = this.#nowMs();
      if (!this.#needsRefresh(row, options, firstVersion, now)) return this.#remember(row);
      const nextAttempt = row.nextRefreshAttemptAt?.getTime();
      if (nextAttempt !== undefined && nextAttempt > now) {
        // Backing off after transient failures: no upstream call until the recorded time.
        this.#metrics?.refreshAttempts.inc({ outcome: "skipped" });
        return this.#degraded(row, options, now, undefined, "backoff");
      }
      const owner = `${this.#owner}#${++this.#leaseSeq}`;
      const claim = await this.#store.claimRefreshLease(identifier, {
        owner,
        version: row.version,
        now: new Date(now),
        leaseMs: this.#leaseMs,
      });
      if (!claim.claimed) {
        // Someone else is refreshing. A token that still works is answered at once; otherwise wait.
        if (this.#usable(row, options, now)) return this.#serveWhileRefreshing(row, now);
        row = await this.#waitForOther(identifier, row);
        seen.row = row;
        continue;
      }
      // The refresh token we send is the one read under our own lease.
      const leased = await this.#read(identifier);
      seen.row = leased;
      if (leased.leaseOwner !== owner || leased.version !== row.version) {
        row = leased;
        continue;
      }
      const outcome = await this.#refresh(leased, owner, claim.takeover, now, options);
      if ("done" in outcome) return outcome.done;
      row = outcome.retry;
      seen.row = row;
    }
  }

  /** Rotated tokens the store has not confirmed yet are this process's truth (the row is older). */
  #fromHeld(identifier: string, options: GetAccessTokenOptions): AccessToken | undefined {
    const held = this.#keeper.held(identifier);
    if (!held || held.tokens.accessToken === options.rejectedAccessToken) return undefined;
    const token: AccessToken = Object.freeze({
      accessToken: held.tokens.accessToken,
      expiresAt: held.tokens.accessTokenExpiresAt,
      version: held.baseVersion + 1,
    });
    return this.#nowMs() < held.tokens.accessTokenExpiresAt.getTime() - MIN_USABLE_MS ? token : undefined;
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

  /** Step 6: someone else holds the lease. Wait until the version moves, the lease goes, or it expires. */
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

  /** Steps 7–10, holding the lease claimed at `claimedAt`. */
  async #refresh(
    leased: ConnectionRecord,
    owner: string,
    takeover: boolean,
    claimedAt: number,
    options: GetAccessTokenOptions,
  ): Promise<Outcome> {
    if (leased.refreshTokenExpiresAt.getTime() <= this.#nowMs()) {
      // Known dead: sending it would only earn an invalid_grant (and count against the integration).
      return this.#markDead(leased, "refresh_expired");
    }
    const started = performance.now();
    // The one timeout: the request is aborted here, well inside the lease (see leaseMs).
    const settled: Settled = await this.#refresher
      .refresh(leased.refreshToken, { signal: AbortSignal.timeout(this.#timeoutMs) })
      .then(
        (tokens) => ({ ok: true as const, tokens }),
        (error: unknown) => ({ ok: false as const, error }),
      );
    this.#metrics?.refreshLatency.observe((performance.now() - started) / 1000);
    if (settled.ok) return this.#saveRotation(leased, owner, settled.tokens);
    return this.#handleFailure(leased, owner, takeover, claimedAt, settled.error, options);
  }

  /** Step 8: the rotation is journaled and saved (or held and retried) before anyone sees it. */
  async #saveRotation(leased: ConnectionRecord, owner: string, tokens: TokenSet): Promise<Outcome> {
    const id = leased.identifier;
    this.#metrics?.refreshAttempts.inc({ outcome: "success" });
    const outcome = await this.#keeper.persist({
      identifier: id,
      baseVersion: leased.version,
      owner,
      tokens: {
        scopes: tokens.scopes,
        accessToken: tokens.accessToken,
        refreshToken: tokens.refreshToken,
        accessTokenExpiresAt: tokens.accessTokenExpiresAt,
        refreshTokenExpiresAt: tokens.refreshTokenExpiresAt,
      },
      obtainedAt: tokens.obtainedAt,
    });
    if (outcome === "superseded") {
      // The row moved on (a reconnect, or the journal of another process applied these very tokens).
      this.#log.warn({ identifier: id }, "rotated tokens not saved: the connection changed meanwhile");
      return { retry: await this.#read(id) };
    }
    this.#log.info(
      { identifier: id, version: leased.version + 1, held: outcome === "held" },
      "token refreshed",
    );
    const token = this.#remember({
      identifier: id,
      accessToken: tokens.accessToken,
      accessTokenExpiresAt: tokens.accessTokenExpiresAt,
      lastRefreshedAt: tokens.obtainedAt,
      version: leased.version + 1,
    });
    this.#wake(id);
    return { done: token };
  }

  /** Steps 9–10: a dead grant, or a transient failure that backs off and keeps the connection active. */
  async #handleFailure(
    leased: ConnectionRecord,
    owner: string,
    takeover: boolean,
    claimedAt: number,
    error: unknown,
    options: GetAccessTokenOptions,
  ): Promise<Outcome> {
    const id = leased.identifier;
    if (isAirlockError(error, "reauth_required")) {
      this.#metrics?.refreshAttempts.inc({ outcome: takeover ? "interrupted" : "invalid_grant" });
      return this.#markDead(leased, takeover ? "refresh_interrupted" : "invalid_grant");
    }
    // Transient (network, timeout, 5xx, 409, 429), or something unexpected: back off, stay active.
    this.#metrics?.refreshAttempts.inc({ outcome: "transient" });
    const now = this.#nowMs();
    const failures = leased.refreshFailures + 1;
    // No answer after the request left: Airtable may have rotated, or may still be processing it.
    // The refresh token is not sent again before the lease it went out under has ended, and a
    // later rejection of it is reported as an interrupted refresh.
    const uncertain = isUncertain(error);
    const backoffUntil = now + this.#backoff(failures);
    const nextAttemptAt = new Date(
      uncertain ? Math.max(backoffUntil, claimedAt + this.#leaseMs) : backoffUntil,
    );
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
    await this.#store
      .appendEvent(id, {
        type: "connection.refresh_failed",
        data: {
          error: isAirlockError(error) ? error.code : "internal",
          ...(isAirlockError(error) && typeof error.details?.status === "number"
            ? { status: error.details.status }
            : {}),
          failures,
          uncertain,
          next_attempt_at: nextAttemptAt.toISOString(),
        },
      })
      .catch(() => undefined); // history is best effort; the row already records the failure
    if (isAirlockError(error) && !error.retryable) throw error;
    const row = { ...leased, nextRefreshAttemptAt: nextAttemptAt };
    return { done: this.#degraded(row, options, now, error, "failed") };
  }

  /** Step 9: the grant is dead unless someone else refreshed meanwhile. Exactly one event. */
  async #markDead(leased: ConnectionRecord, reason: string): Promise<Outcome> {
    const id = leased.identifier;
    const current = await this.#read(id);
    if (current.version !== leased.version) return { retry: current };
    // Fenced on our lease too: a takeover since means another refresh is in flight (maybe the one
    // Airtable honoured), so the grant is not ours to declare dead; the retry waits for its outcome.
    const marked = await this.#store.markReauthRequired(
      id,
      {
        version: leased.version,
        reason,
        now: new Date(this.#nowMs()),
        owner: leased.leaseOwner ?? undefined,
      },
      { type: "connection.reauth_required", data: { reason } },
    );
    if (marked) this.#log.warn({ identifier: id, reason }, "connection needs re-authorization");
    this.#cache.delete(id);
    this.#wake(id);
    return { retry: await this.#read(id) };
  }

  /**
   * Another instance is refreshing and the current token still works: answer it, and keep
   * answering it from memory for a moment (the refresh's change notification ends that early).
   */
  #serveWhileRefreshing(row: ConnectionRecord, now: number): AccessToken {
    const token = tokenOf(row);
    this.#cacheEntry(row.identifier, {
      token,
      freshUntil: row.accessTokenExpiresAt.getTime() - MIN_USABLE_MS,
      recheckAt: now + POLL_MAX_MS,
    });
    return token;
  }

  /**
   * Caches an entry as the newest (re-inserted, so the Map's order is oldest-cached first) and drops
   * the oldest beyond the bound. The hot path reads without reordering: a busy connection is
   * re-cached at every recheck anyway, so it is never the oldest for long.
   */
  #cacheEntry(identifier: string, entry: CacheEntry): void {
    this.#cache.delete(identifier);
    this.#cache.set(identifier, entry);
    if (this.#cache.size > this.#cacheMaxEntries) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
  }

  /** The current token still works for this caller (not expiring within seconds, not the one rejected). */
  #usable(row: ConnectionRecord, options: GetAccessTokenOptions, now: number): boolean {
    return (
      row.accessTokenExpiresAt.getTime() - now > MIN_USABLE_MS &&
      row.accessToken !== options.rejectedAccessToken
    );
  }

  /** When no fresh token can be had now: the current token if it still works, else a retryable error. */
  #degraded(
    row: ConnectionRecord,
    options: GetAccessTokenOptions,
    now: number,
    cause: unknown,
    why: "backoff" | "failed" | "refreshing",
  ): AccessToken {
    if (this.#usable(row, options, now)) return tokenOf(row);
    const retryAt =
      why === "refreshing"
        ? now + this.#backoffBaseMs
        : (row.nextRefreshAttemptAt?.getTime() ?? now + this.#backoffBaseMs);
    throw new AirlockError(
      "transient",
      why === "refreshing"
        ? `The access token of "${row.identifier}" is being refreshed and the refresh is taking long.`
        : `The access token of "${row.identifier}" could not be refreshed right now.`,
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
        hint: "The user must authorize this identifier first.",
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
        hint: "The user must authorize again; doing so reconnects this identifier in place.",
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
      this.#cacheEntry(row.identifier, {
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
    this.#keeper.drop(identifier, version);
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

  /** Exponential backoff with jitter in [d/2, d]: at most 6 attempts per connection in the first minute. */
  #backoff(failures: number): number {
    const ceiling = Math.min(MAX_BACKOFF_MS, this.#backoffBaseMs * 2 ** Math.min(failures - 1, 20));
    return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
  }
}

function tokenOf(row: ConnectionRecord): AccessToken {
  return { accessToken: row.accessToken, expiresAt: row.accessTokenExpiresAt, version: row.version };
}

/** The request may have reached Airtable without an answer coming back (timeout, reset, dropped). */
function isUncertain(error: unknown): boolean {
  if (!isAirlockError(error)) return true;
  if (typeof error.details?.status === "number") return false;
  const reason = error.details?.reason;
  return !(typeof reason === "string" && NEVER_SENT.has(reason));
}

function describe(error: unknown): { code?: string; message: string } {
  if (isAirlockError(error)) return { code: error.code, message: error.message };
  return { message: error instanceof Error ? error.message : String(error) };
}
