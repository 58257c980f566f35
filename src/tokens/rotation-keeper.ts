/**
 * Rotated tokens reach the database, whatever happens on the way. Once Airtable has rotated, the
 * new refresh token is the only copy of the grant, so a refresh holder hands its answer here:
 *
 * 1. The tokens go to the journal (fsynced, encrypted) and to the fenced save at the same time.
 * 2. Saved → the journal entry is dropped. Superseded (the version moved) → dropped too.
 * 3. The store failed (outage, full disk) → the rotation is held in memory, served to this
 *    process's callers, and the save is retried with backoff while the lease is renewed, until the
 *    store answers. A journaled rotation also survives this process: `recover()` (at start and on
 *    a timer, in any instance sharing the journal folder) applies entries fenced on the version.
 *
 * The argument for why no interleaving loses or double-applies a rotation is in ARCHITECTURE.md
 * ("Durability").
 */
import { performance } from "node:perf_hooks";
import { type Logger, silentLogger } from "../shared/log.js";
import type { Metrics } from "../shared/metrics.js";
import { sleep, within } from "../shared/timers.js";
import type { JournaledRotation, RotationJournal } from "../store/journal.js";
import type { NewEvent, RefreshedTokens, Store } from "../store/types.js";

/** A rotation Airtable answered, with the lease it was obtained under. */
export interface Rotation {
  identifier: string;
  /** The row version whose refresh token was spent; every save is fenced on it. */
  baseVersion: number;
  /** The lease owner that obtained it (renewed while the save is retried). */
  owner: string;
  tokens: RefreshedTokens;
  obtainedAt: Date;
}

/** `saved`: in the database. `superseded`: the row moved on without it. `held`: in memory, retrying. */
export type PersistOutcome = "saved" | "superseded" | "held";

export interface RotationKeeperOptions {
  store: Store;
  journal?: RotationJournal | undefined;
  leaseMs: number;
  nowMs: () => number;
  logger?: Logger | undefined;
  metrics?: Metrics | undefined;
  /** The event written with a save (e.g. `connection.refreshed`), if any. */
  eventFor?: ((rotation: Rotation) => NewEvent | undefined) | undefined;
  /** Called once a held or journaled rotation settles (saved or superseded): drop caches, wake waiters. */
  onSettled: (identifier: string) => void;
  /** First retry delay (default 100 ms); doubles up to `maxRetryDelayMs` (default 2 s). */
  retryDelayMs?: number | undefined;
  maxRetryDelayMs?: number | undefined;
}

const JOURNAL_OWNER = "journal";

/** Gets each rotation Airlock received into the store: journaled, saved fenced, held and retried while the store fails. */
export class RotationKeeper {
  readonly #store: Store;
  readonly #journal: RotationJournal | undefined;
  readonly #leaseMs: number;
  readonly #nowMs: () => number;
  readonly #log: Logger;
  readonly #metrics: Metrics | undefined;
  readonly #eventFor: (rotation: Rotation) => NewEvent | undefined;
  readonly #onSettled: (identifier: string) => void;
  readonly #retryDelayMs: number;
  readonly #maxRetryDelayMs: number;
  readonly #held = new Map<string, Rotation>();
  readonly #retries = new Set<Promise<void>>();
  #stopped = false;

  constructor(options: RotationKeeperOptions) {
    this.#store = options.store;
    this.#journal = options.journal;
    this.#leaseMs = options.leaseMs;
    this.#nowMs = options.nowMs;
    this.#log = options.logger ?? silentLogger;
    this.#metrics = options.metrics;
    this.#eventFor = options.eventFor ?? (() => undefined);
    this.#onSettled = options.onSettled;
    this.#retryDelayMs = options.retryDelayMs ?? 100;
    this.#maxRetryDelayMs = options.maxRetryDelayMs ?? 2_000;
  }

  /** A rotation of `identifier` that only this process has (the store has not confirmed it yet). */
  held(identifier: string): Rotation | undefined {
    return this.#held.get(identifier);
  }

  /**
   * Stops serving a held rotation whose row moved on without it (disconnected, reconnected, or a
   * version past the one it would save). Its retry finds the fence moved and drops the journal entry.
   */
  drop(identifier: string, seenVersion?: number): void {
    const held = this.#held.get(identifier);
    if (!held || (seenVersion !== undefined && seenVersion <= held.baseVersion + 1)) return;
    this.#held.delete(identifier);
    this.#metrics?.heldRotations.set(this.#held.size);
  }

  /** How many rotations wait for the store in this process. */
  get heldCount(): number {
    return this.#held.size;
  }

  /** Journals and saves a fresh rotation; on a store failure, holds it and keeps retrying. */
  async persist(rotation: Rotation): Promise<PersistOutcome> {
    const journaled = this.#journalWrite(rotation);
    let outcome: PersistOutcome;
    try {
      outcome = (await this.#save(rotation)) ? "saved" : "superseded";
    } catch (error) {
      outcome = "held";
      this.#log.error(
        { err: error, identifier: rotation.identifier, version: rotation.baseVersion },
        "could not save rotated tokens; holding them in memory and retrying",
      );
    }
    const durable = await journaled;
    if (outcome === "held") {
      this.#held.set(rotation.identifier, rotation);
      this.#metrics?.heldRotations.set(this.#held.size);
      const retry = this.#retryUntilSaved(rotation, durable).finally(() => this.#retries.delete(retry));
      this.#retries.add(retry);
    } else if (durable) {
      await this.#journalRemove(rotation);
    }
    return outcome;
  }

  /**
   * Applies journal entries the store does not have yet (a process died between Airtable's answer
   * and the save), fenced on version; drops obsolete ones. Returns how many were applied.
   */
  async recover(): Promise<number> {
    if (!this.#journal) return 0;
    let applied = 0;
    for (const entry of await this.#journal.list()) {
      const mine = this.#held.get(entry.identifier);
      if (mine?.baseVersion === entry.baseVersion) continue; // our own retry loop has it
      const row = await this.#store.getConnection(entry.identifier);
      if (row?.status === "active" && row.version === entry.baseVersion) {
        const rotation: Rotation = { ...entry, owner: JOURNAL_OWNER };
        if (await this.#save(rotation)) {
          applied++;
          this.#log.warn(
            { identifier: entry.identifier, version: entry.baseVersion + 1 },
            "applied a journaled rotation that had not reached the store",
          );
          this.#onSettled(entry.identifier);
        }
      }
      await this.#journal.remove(entry.identifier, entry.baseVersion);
    }
    return applied;
  }

  /**
   * Waits for held rotations to reach the store, at most `deadlineMs`; then reports what is left
   * (in the journal, for the next instance to apply, or lost when there is no journal).
   */
  async drain(deadlineMs: number): Promise<void> {
    if (this.#retries.size > 0) await within(Promise.allSettled([...this.#retries]), deadlineMs);
    this.#stopped = true;
    const left = [...this.#held.keys()];
    if (left.length === 0) return;
    if (this.#journal) {
      this.#log.warn(
        { identifiers: left, journal: this.#journal.location },
        "stopping with rotated tokens the store has not confirmed; the journal keeps them for the next start",
      );
    } else {
      this.#log.error(
        { identifiers: left },
        "stopping with unsaved rotated tokens and no journal: they are lost",
      );
    }
  }

  async #retryUntilSaved(rotation: Rotation, durable: boolean): Promise<void> {
    const started = performance.now();
    let leaseUntil = this.#nowMs() + this.#leaseMs;
    let delay = this.#retryDelayMs;
    for (let attempt = 1; !this.#stopped; attempt++) {
      await sleep(delay);
      delay = Math.min(delay * 2, this.#maxRetryDelayMs);
      leaseUntil = await this.#renewIfDue(rotation, leaseUntil);
      let saved: boolean;
      try {
        saved = await this.#save(rotation);
      } catch {
        continue;
      }
      if (durable) await this.#journalRemove(rotation);
      if (this.#held.get(rotation.identifier) === rotation) this.#held.delete(rotation.identifier);
      this.#metrics?.heldRotations.set(this.#held.size);
      this.#log.info(
        {
          identifier: rotation.identifier,
          attempts: attempt,
          seconds: Math.round((performance.now() - started) / 100) / 10,
        },
        saved ? "held rotated tokens saved" : "held rotated tokens superseded by a newer version",
      );
      this.#onSettled(rotation.identifier);
      return;
    }
  }

  /** Keeps the lease ours while we retry, so nobody sends the spent refresh token meanwhile. */
  async #renewIfDue(rotation: Rotation, leaseUntil: number): Promise<number> {
    const now = this.#nowMs();
    if (now < leaseUntil - this.#leaseMs / 3) return leaseUntil;
    const until = now + this.#leaseMs;
    const renewed = await this.#store
      .renewRefreshLease(rotation.identifier, {
        owner: rotation.owner,
        version: rotation.baseVersion,
        until: new Date(until),
      })
      .catch(() => false);
    return renewed ? until : leaseUntil;
  }

  #save(rotation: Rotation): Promise<boolean> {
    return this.#store.saveRefreshedTokens(
      rotation.identifier,
      {
        owner: rotation.owner,
        version: rotation.baseVersion,
        tokens: rotation.tokens,
        now: new Date(this.#nowMs()),
      },
      this.#eventFor(rotation),
    );
  }

  /** True once the entry is durable; a journal failure is logged, never fatal (the save may still land). */
  async #journalWrite(rotation: Rotation): Promise<boolean> {
    if (!this.#journal) return false;
    const entry: JournaledRotation = {
      identifier: rotation.identifier,
      baseVersion: rotation.baseVersion,
      tokens: rotation.tokens,
      obtainedAt: rotation.obtainedAt,
    };
    try {
      await this.#journal.write(entry);
      return true;
    } catch (error) {
      this.#log.error(
        { err: error, identifier: rotation.identifier, journal: this.#journal.location },
        "could not journal rotated tokens",
      );
      return false;
    }
  }

  async #journalRemove(rotation: Rotation): Promise<void> {
    await this.#journal?.remove(rotation.identifier, rotation.baseVersion).catch((error: unknown) => {
      // Harmless: an obsolete entry is dropped by the next recovery pass (fenced on version).
      this.#log.warn({ err: error, identifier: rotation.identifier }, "could not drop a journal entry");
    });
  }
}
