/**
 * Issue 7, "never lose a rotated token", on real processes: two `airlock serve` instances, the
 * emulator as its own process, and a PostgreSQL server of this file's own that the tests stop and
 * start. Once Airtable has rotated a grant, the new refresh token is the only copy, so every
 * scenario checks the same thing at the end: no connection lost, no `invalid_grant`, exactly one
 * upstream refresh per connection, and the rotated tokens in use afterwards.
 *
 * 1. PostgreSQL down for 8 s while 20 refreshes wait on the token endpoint.
 * 2. SIGTERM while the instance holds a refresh lease (a rolling deploy).
 * 3. A token endpoint slower than the refresh timeout (default timeouts, then short ones).
 * 4. SIGTERM with 20 proxied requests in flight.
 * 5. kill -9 after Airtable rotated but before the save, and right after the save (kill -9 before
 *    the request is in crash.test.ts).
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { libfaketimeMissing } from "../support/faketime.js";
import {
  type PrivatePostgres,
  privatePostgresMissing,
  startPrivatePostgres,
} from "../support/private-postgres.js";
import { announceSkip } from "../support/skip.js";
import {
  type Answer,
  bumped,
  type Cluster,
  type ClusterOptions,
  type Instance,
  isTransient,
  sleep,
  startCluster,
  summarize,
  versionsOf,
  waitFor,
  waitForSettledRows,
  waitForTokenRequests,
} from "./harness.js";

const missing = privatePostgresMissing() ?? libfaketimeMissing();
announceSkip("multiprocess", "refresh durability (issue 7)", missing);

/** Past the 60-minute access token: every refresh below is due. */
const HOUR_PLUS = 61 * 60;
const WHOAMI = "/v0/meta/whoami";

const ok = (answer: Answer) => answer.status === 200;
const okOrTransient = (answer: Answer) => ok(answer) || isTransient(answer);

describe.skipIf(missing !== undefined)("refresh durability (issue 7)", () => {
  let server: PrivatePostgres;

  beforeAll(async () => {
    server = await startPrivatePostgres("durability");
  }, 60_000);

  afterAll(async () => {
    await server?.destroy();
  });

  // A failed test must not leave the next one without its database.
  afterEach(async () => {
    if (server && !server.running) await server.start();
  });

  /** A cluster of `instances` on a fresh database of the private server, started in beforeAll. */
  function useCluster(
    label: string,
    options: Omit<ClusterOptions, "label" | "database">,
    setup: (cluster: Cluster) => Promise<void>,
  ): () => Cluster {
    let cluster: Cluster | undefined;
    beforeAll(async () => {
      const url = await server.createDatabase(label.replace(/\W/g, "_"));
      cluster = await startCluster({ label, database: { postgres: url }, ...options });
      await setup(cluster);
    }, 120_000);
    afterAll(async () => {
      await cluster?.close();
    });
    return () => cluster!;
  }

  // ---------------------------------------------------------------------------------------------

  describe("PostgreSQL down for 8 s while 20 refreshes are in flight", () => {
    const ids = Array.from({ length: 20 }, (_, i) => `outage_${i}`);
    // Token endpoint latency 2 s: long enough to stop PostgreSQL while every request waits there.
    const cluster = useCluster("outage", { instances: 2, latencyMs: 2000 }, async (c) => {
      await Promise.all(ids.map((id) => c.connect(id)));
    });

    it("answers 200 or 503 transient (never 500), then saves all 20 rotations: 20 refreshes, 0 invalid_grant", async () => {
      const c = cluster();
      const before = await c.emulator.stats();
      const at = await versionsOf(c, ids);
      await c.advanceAll(HOUR_PLUS);
      // An arrival counter: each token request takes one fault (1 ms: nothing else changes).
      await c.emulator.faults({ token: { delay_ms: 1, count: ids.length } });

      const answers = Promise.all(ids.map((id, i) => c.proxy(i % 2, id, WHOAMI, { timeoutMs: 60_000 })));
      await waitForTokenRequests(c, "the 20 refreshes");
      await server.stop("fast");
      const atStop = await c.emulator.stats();
      expect(
        atStop.refreshes - before.refreshes,
        "PostgreSQL went down only after Airtable answered",
      ).toBeLessThan(ids.length);
      await sleep(8000);
      await server.start();

      const first = await answers;
      expect.soft(first.every(okOrTransient), JSON.stringify(summarize(first))).toBe(true);

      await waitForSettledRows(c, bumped(at));
      const second = await Promise.all(ids.map((id, i) => c.proxy(i % 2, id)));
      expect.soft(summarize(second)).toEqual({ 200: ids.length });

      const after = await c.emulator.stats();
      expect.soft(after.refreshes - before.refreshes).toBe(ids.length);
      expect.soft(after.invalid_grants - before.invalid_grants).toBe(0);
      expect.soft(await c.events("connection.reauth_required")).toEqual([]);
    }, 120_000);
  });

  // ---------------------------------------------------------------------------------------------

  describe("SIGTERM during a refresh", () => {
    const id = "sigterm_refresh";
    const cluster = useCluster("sigterm-refresh", { instances: 2 }, (c) => c.connect(id));

    it("answers the in-flight call, saves the rotation, exits 0; the other instance uses it", async () => {
      const c = cluster();
      const [a, b] = c.instances as [Instance, Instance];
      const before = await c.emulator.stats();
      const version = (await c.row(id))!.version;
      // Airtable takes 3 s; only A (and Airtable) see the token expire.
      await c.emulator.faults({ token: { delay_ms: 3000, count: 1 } });
      a.clock.advance(HOUR_PLUS);
      await c.emulator.advanceClock(HOUR_PLUS);

      const inFlight = c.proxy(a, id);
      await waitFor(async () => (await c.row(id))?.lease_owner, {
        timeoutMs: 10_000,
        message: "A never took the refresh lease",
      });
      await waitForTokenRequests(c, "A's refresh");
      const exit = a.stopGracefully("SIGTERM");

      const answer = await inFlight;
      expect.soft(answer.status, answer.error ?? answer.body).toBe(200);
      const code = await exit;
      const atExit = await c.row(id);
      expect.soft(code, "A's exit code").toBe(0);
      expect.soft(atExit, "the row when A had exited").toMatchObject({
        status: "active",
        version: version + 1,
        lease_owner: null,
      });

      b.clock.advance(a.clock.offsetSeconds - b.clock.offsetSeconds);
      const onB = await c.proxy(b, id, WHOAMI, { timeoutMs: 60_000 });
      expect.soft(onB.status, onB.error ?? onB.body).toBe(200);
      const after = await c.emulator.stats();
      expect.soft(after.refreshes - before.refreshes, "upstream refreshes").toBe(1);
      expect.soft(after.invalid_grants - before.invalid_grants, "invalid_grants").toBe(0);
      expect.soft(await c.events("connection.reauth_required", id)).toEqual([]);
    }, 90_000);
  });

  // ---------------------------------------------------------------------------------------------

  describe("token endpoint slower than the refresh timeout", () => {
    describe("default timeouts, one answer after 20 s", () => {
      const id = "slow_token";
      const cluster = useCluster("slow-token", { instances: 2 }, (c) => c.connect(id));

      it("callers get 503 transient meanwhile, nobody sends the token again, the late answer is saved", async () => {
        const c = cluster();
        const before = await c.emulator.stats();
        const version = (await c.row(id))!.version;
        await c.emulator.faults({ token: { delay_ms: 20_000, count: 1 } });
        await c.advanceAll(HOUR_PLUS);

        const firstCall = c.proxy(0, id, WHOAMI, { timeoutMs: 40_000 });
        await waitForTokenRequests(c, "the slow refresh");
        const arrived = performance.now();
        const first = await firstCall;
        expect
          .soft(isTransient(first), `first caller: ${first.status} ${first.error ?? first.body}`)
          .toBe(true);

        // Keep calling on both instances until Airtable has certainly processed the slow request
        // (its 20 s are over) and a refresh has landed.
        const during: Promise<Answer>[] = [];
        let tick = 0;
        const landed = async () => (await c.emulator.stats()).refreshes > before.refreshes;
        while (performance.now() - arrived < 21_000 || !(await landed())) {
          if (performance.now() - arrived > 45_000) break;
          during.push(c.proxy(tick++ % 2, id, WHOAMI, { timeoutMs: 30_000 }));
          await sleep(1000);
        }
        const answers = await Promise.all(during);
        expect.soft(answers.every(okOrTransient), JSON.stringify(summarize(answers))).toBe(true);

        // One token request in all: a second one with the same refresh token (while the first was
        // pending) shows up as a second refresh or, once the first is processed, an invalid_grant.
        const after = await c.emulator.stats();
        expect.soft(after.refreshes - before.refreshes, "upstream refreshes").toBe(1);
        expect.soft(after.invalid_grants - before.invalid_grants, "invalid_grants").toBe(0);

        await waitForSettledRows(c, new Map([[id, version + 1]]));
        const final = await Promise.all([0, 1, 0, 1].map((i) => c.proxy(i, id)));
        expect.soft(summarize(final)).toEqual({ 200: 4 });
        expect.soft(await c.events("connection.reauth_required", id)).toEqual([]);
      }, 120_000);
    });

    describe("AIRLOCK_REFRESH_TIMEOUT_SECONDS=2, AIRLOCK_REFRESH_LEASE_SECONDS=8, Airtable rotates after 5 s", () => {
      const id = "slow_token_short";
      const cluster = useCluster(
        "slow-token-short",
        { instances: 2, env: { AIRLOCK_REFRESH_TIMEOUT_SECONDS: "2", AIRLOCK_REFRESH_LEASE_SECONDS: "8" } },
        (c) => c.connect(id),
      );

      it("no second token request inside the lease; the stale token afterwards means refresh_interrupted, one event", async () => {
        const c = cluster();
        const before = await c.emulator.stats();
        // Airtable processes (rotates) after 5 s, when the client has given up at 2 s.
        await c.emulator.faults({ token: { delay_ms: 5000, count: 1 } });
        await c.advanceAll(HOUR_PLUS);

        const during: Promise<Answer>[] = [c.proxy(0, id)];
        await waitForTokenRequests(c, "the refresh");
        const arrived = performance.now();
        // Inside the lease (it started before the arrival): callers on both instances, no resend.
        let tick = 1;
        let insideLease = { refreshes: 0, invalid_grants: 0 };
        while (performance.now() - arrived < 7000) {
          during.push(c.proxy(tick++ % 2, id, WHOAMI, { timeoutMs: 30_000 }));
          const now = await c.emulator.stats();
          insideLease = {
            refreshes: now.refreshes - before.refreshes,
            invalid_grants: now.invalid_grants - before.invalid_grants,
          };
          await sleep(500);
        }
        expect
          .soft(insideLease, "token requests inside the 8 s lease")
          .toEqual({ refreshes: 1, invalid_grants: 0 });
        const answers = await Promise.all(during);
        expect.soft(answers.every(okOrTransient), JSON.stringify(summarize(answers))).toBe(true);

        // After the lease a caller sends the only refresh token there is: Airtable already rotated it.
        await waitFor(
          async () => {
            await c.proxy(tick++ % 2, id, WHOAMI, { timeoutMs: 30_000 });
            return (await c.row(id))?.status === "reauth_required";
          },
          { timeoutMs: 30_000, intervalMs: 500, message: "the connection never became reauth_required" },
        );
        const row = await c.row(id);
        expect.soft(row?.status_reason).toBe("refresh_interrupted");
        expect
          .soft((await c.events("connection.reauth_required", id)).map((e) => e.data))
          .toEqual([{ reason: "refresh_interrupted" }]);
        const after = await c.emulator.stats();
        expect.soft(after.invalid_grants - before.invalid_grants, "stale-token sends").toBe(1);
      }, 90_000);
    });
  });

  // ---------------------------------------------------------------------------------------------

  describe("SIGTERM with 20 proxied requests in flight", () => {
    const id = "inflight_proxy";
    const cluster = useCluster("sigterm-proxy", { instances: 2 }, (c) => c.connect(id));

    it("answers all 20 with their complete bodies, then exits 0", async () => {
      const c = cluster();
      const a = c.instances[0]!;
      // Airtable answers each /v0 request normally, after 3 s.
      await c.emulator.faults({ api: { delay_ms: 3000, count: 20 } });
      const before = await c.emulator.stats();
      const calls = Array.from({ length: 20 }, () => c.proxy(a, id, WHOAMI, { timeoutMs: 30_000 }));
      await waitFor(async () => (await c.emulator.stats()).api_requests - before.api_requests >= 20, {
        timeoutMs: 15_000,
        intervalMs: 25,
        message: "the 20 proxied requests never reached the emulator",
      });
      const exit = a.stopGracefully("SIGTERM");
      const answers = await Promise.all(calls);
      expect.soft(summarize(answers)).toEqual({ 200: 20 });
      const complete = answers.filter((answer) => {
        try {
          return typeof (JSON.parse(answer.body) as { id?: unknown }).id === "string";
        } catch {
          return false;
        }
      });
      expect.soft(complete.length, "complete whoami bodies").toBe(20);
      expect.soft(await exit, "A's exit code").toBe(0);
    }, 60_000);
  });

  // ---------------------------------------------------------------------------------------------

  describe("kill -9 of the lease holder", () => {
    // Each instance its own journal folder, as on separate machines.
    let journals = "";
    const journalEnv = (index: number) => ({ AIRLOCK_JOURNAL_DIR: join(journals, `serve-${index}`) });
    beforeAll(() => {
      journals = mkdtempSync(join(tmpdir(), "airlock-journals-"));
    });
    afterAll(() => {
      if (journals) rmSync(journals, { recursive: true, force: true });
    });

    const rotations = (instance: Instance) => {
      try {
        return readdirSync(instance.env.AIRLOCK_JOURNAL_DIR!).filter((name) => name.endsWith(".rotation"));
      } catch {
        return [];
      }
    };

    describe("after Airtable rotated, before the save (PostgreSQL down)", () => {
      const id = "kill_before_save";
      const cluster = useCluster("kill-before-save", { instances: 2, instanceEnv: journalEnv }, (c) =>
        c.connect(id),
      );

      it("the journaled rotation is applied when the holder starts again: active, version + 1, 200", async () => {
        const c = cluster();
        const a = c.instances[0]!;
        const before = await c.emulator.stats();
        const version = (await c.row(id))!.version;
        await c.emulator.faults({ token: { delay_ms: 3000, count: 1 } });
        a.clock.advance(HOUR_PLUS);
        await c.emulator.advanceClock(HOUR_PLUS);

        void c.proxy(a, id); // dies with A
        await waitFor(async () => (await c.row(id))?.lease_owner, {
          timeoutMs: 10_000,
          message: "A never took the refresh lease",
        });
        await waitForTokenRequests(c, "A's refresh");
        await server.stop("fast"); // so the save fails when Airtable's answer comes
        expect(
          (await c.emulator.stats()).refreshes,
          "PostgreSQL went down only after Airtable answered",
        ).toBe(before.refreshes);
        await waitFor(() => rotations(a).length > 0, {
          timeoutMs: 20_000,
          message: `no *.rotation file appeared in A's journal (${a.env.AIRLOCK_JOURNAL_DIR}); A's output:\n${a.output().slice(-2000)}`,
        });
        a.child.process.kill("SIGKILL");
        await a.child.exited;
        await server.start();
        await a.start();

        await waitForSettledRows(c, new Map([[id, version + 1]]));
        const answer = await c.proxy(a, id);
        expect.soft(answer.status, answer.error ?? answer.body).toBe(200);
        const after = await c.emulator.stats();
        expect.soft(after.refreshes - before.refreshes, "upstream refreshes").toBe(1);
        expect.soft(after.invalid_grants - before.invalid_grants, "invalid_grants").toBe(0);
        expect.soft(await c.events("connection.reauth_required", id)).toEqual([]);
        await waitFor(() => rotations(a).length === 0, {
          timeoutMs: 15_000,
          message: "the journal entry was not deleted once saved",
        });
      }, 90_000);
    });

    describe("right after the save", () => {
      const id = "kill_after_save";
      const cluster = useCluster("kill-after-save", { instances: 2, instanceEnv: journalEnv }, (c) =>
        c.connect(id),
      );

      it("the other instance answers with the saved tokens and refreshes nothing", async () => {
        const c = cluster();
        const [a, b] = c.instances as [Instance, Instance];
        const before = await c.emulator.stats();
        const version = (await c.row(id))!.version;
        a.clock.advance(HOUR_PLUS);
        await c.emulator.advanceClock(HOUR_PLUS);

        void c.proxy(a, id); // dies with A
        await waitFor(async () => ((await c.row(id))?.version ?? 0) > version, {
          timeoutMs: 15_000,
          intervalMs: 10,
          message: "A never saved the refresh",
        });
        a.child.process.kill("SIGKILL");
        await a.child.exited;

        b.clock.advance(a.clock.offsetSeconds - b.clock.offsetSeconds);
        const answer = await c.proxy(b, id);
        expect.soft(answer.status, answer.error ?? answer.body).toBe(200);
        const after = await c.emulator.stats();
        expect.soft(after.refreshes - before.refreshes, "upstream refreshes").toBe(1);
        expect.soft(after.invalid_grants - before.invalid_grants, "invalid_grants").toBe(0);
        expect
          .soft(await c.row(id))
          .toMatchObject({ status: "active", version: version + 1, lease_owner: null });
      }, 60_000);
    });
  });
});
