/**
 * Airtable webhooks through `airlock serve` (issue 10), on three instances sharing one PostgreSQL.
 * A front at the public URL hands every Airtable ping to all three instances at once, as a load
 * balancer would spread a burst of pings; the receiver at AIRLOCK_WEBHOOK_URL verifies every
 * delivery's Standard Webhooks signature. What must hold:
 * - 200 record changes arrive as `airtable.payloads` events exactly once, in cursor order, and
 *   together they are exactly what Airtable (the emulator) lists for the webhook;
 * - `kill -9` of the instance fetching the payloads loses and duplicates nothing;
 * - 8 days of clock jumps never let the webhook expire at Airtable (its 7-day life), and a change
 *   after them is still delivered.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AirlockWebhookEvent,
  verifyWebhook,
  WebhookVerificationError,
} from "../../src/client/webhooks.js";
import {
  NOTIFICATION_PREFIX,
  type NotificationFront,
  startNotificationFront,
} from "../support/notification-front.js";
import {
  type Answer,
  announceClusterSkip,
  type Cluster,
  clusterMissing,
  type Instance,
  sleep,
  startCluster,
  waitFor,
} from "./harness.js";

announceClusterSkip("Airtable webhooks on three instances");

const SECRET = `whsec_${randomBytes(32).toString("base64")}`;
const IDENTIFIER = "awh_user";
const HOUR = 60 * 60;
const DAY = 24 * HOUR;
/** The fetch/refresh lease per webhook (AIRLOCK_AIRTABLE_WEBHOOK_LEASE_SECONDS): long enough for the 8 s slow fetch. */
const LEASE_SECONDS = 20;
/** Most payloads Airtable returns per list call, hence per `airtable.payloads` event. */
const PAGE_SIZE = 50;
/**
 * Airtable allows 5 requests per second per base (then blocks it 30 s), and the service's fetches
 * share that budget: each change pings all three instances, and each may fetch. While pings flow
 * we make under one call a second; while they are held (nobody fetches) we may go faster.
 */
const SPACING_WHILE_PINGS_FLOW_MS = 1200;
const SPACING_WHILE_PINGS_HELD_MS = 300;

// ---------------------------------------------------------------------------------------------
// Wire shapes (only the parts the test reads)

interface AirtableWebhookView {
  id: string;
  identifier: string;
  base_id: string;
  airtable_webhook_id: string;
  status: string;
  notification_url: string;
  expiration_time: string | null;
  last_refreshed_at: string | null;
  cursor: number;
  last_error: string | null;
  delivery: { pending: number; last_error: string | null };
}

type Cells = Record<string, unknown>;

/** An Airtable webhook payload (tableData: record changes per table). */
interface AirtablePayload {
  baseTransactionNumber: number;
  changedTablesById?: Record<
    string,
    {
      createdRecordsById?: Record<string, { cellValuesByFieldId: Cells }>;
      changedRecordsById?: Record<string, { current: { cellValuesByFieldId: Cells } }>;
    }
  >;
}

interface PayloadsEventData {
  webhook_id: string;
  airtable_webhook_id: string;
  base_id: string;
  cursor: number;
  next_cursor: number;
  payloads: AirtablePayload[];
}

/** What the emulator's `GET /v0/bases/{baseId}/webhooks` says about one webhook. */
interface UpstreamWebhook {
  id: string;
  isHookEnabled: boolean;
  expirationTime: string;
  cursorForNextPayload: number;
  notificationUrl: string | null;
}

/** The records written, by id: the name a create gave, the name an update gave. */
interface ChangeLog {
  created: Map<string, string>;
  renamed: Map<string, string>;
}

// ---------------------------------------------------------------------------------------------
// Small tools

/** Spaces out our own calls to Airtable (through the proxy or directly) by at least `spacingMs`. */
class Pacer {
  #next = 0;
  constructor(public spacingMs: number) {}
  async turn(): Promise<void> {
    const wait = this.#next - Date.now();
    this.#next = Math.max(Date.now(), this.#next) + this.spacingMs;
    if (wait > 0) await sleep(wait);
  }
}

function isAlive(instance: Instance): boolean {
  const { process } = instance.child;
  return process.exitCode === null && process.signalCode === null;
}

function duplicates(values: string[]): string[] {
  const seen = new Set<string>();
  const twice: string[] = [];
  for (const value of values) {
    if (seen.has(value)) twice.push(value);
    seen.add(value);
  }
  return twice;
}

describe.skipIf(clusterMissing !== undefined)("Airtable webhooks on three instances", () => {
  let cluster: Cluster;
  let front: NotificationFront;
  let receiver: Server;
  /** Every delivery the receiver accepted (signature verified), in arrival order. */
  const accepted: AirlockWebhookEvent[] = [];
  /** Why the receiver refused a delivery (each is a bug: signatures must always verify). */
  const refused: string[] = [];
  const pacer = new Pacer(SPACING_WHILE_PINGS_FLOW_MS);
  const log: ChangeLog = { created: new Map(), renamed: new Map() };
  let rateLimited = 0;
  let baseId: string;
  let tableId: string;
  let nameFieldId: string;
  let webhook: AirtableWebhookView;

  /**
   * Verifies a delivery against the clock of some instance: the signature's timestamp is the
   * sender's (faked) time, which after clock jumps is days away from this process's real time.
   */
  function verifyAtSomeInstanceClock(headers: IncomingHttpHeaders, body: Buffer): AirlockWebhookEvent {
    const offsets = [...new Set(cluster.instances.map((instance) => instance.clock.offsetSeconds))];
    let stale: unknown;
    for (const offset of offsets) {
      try {
        return verifyWebhook(SECRET, headers, body, { now: () => new Date(Date.now() + offset * 1000) });
      } catch (error) {
        if (!(error instanceof WebhookVerificationError) || error.reason !== "stale_timestamp") throw error;
        stale = error;
      }
    }
    throw stale;
  }

  async function startReceiver(): Promise<string> {
    receiver = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        try {
          accepted.push(verifyAtSomeInstanceClock(request.headers, Buffer.concat(chunks)));
          response.writeHead(204).end();
        } catch (error) {
          refused.push((error as Error).message);
          response.writeHead(400).end();
        }
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/airlock`;
  }

  /** A running instance (the API calls avoid the one a test killed). */
  const live = (): Instance => {
    const instance = cluster.instances.find(isAlive);
    if (!instance) throw new Error("no instance is running");
    return instance;
  };

  const api = (path: string, init: RequestInit = {}) =>
    cluster.api(path, { ...init, instance: cluster.instances.indexOf(live()) });

  /** A call to Airtable through the proxy on `via`, paced, waiting out a 429 (the base's 30 s penalty). */
  async function throughProxy(
    via: Instance,
    path: string,
    init: { method?: string; body?: unknown } = {},
  ): Promise<unknown> {
    for (let attempt = 1; attempt <= 4; attempt++) {
      await pacer.turn();
      const answer: Answer = await cluster.proxy(via, IDENTIFIER, path, {
        method: init.method ?? "GET",
        ...(init.body === undefined
          ? {}
          : { body: JSON.stringify(init.body), headers: { "content-type": "application/json" } }),
      });
      if (answer.status === 200) return JSON.parse(answer.body) as unknown;
      if (answer.status !== 429)
        throw new Error(`${init.method ?? "GET"} ${path}: ${answer.status} ${answer.body}`);
      rateLimited++;
      await sleep((Number(answer.headers.get("retry-after")) || 31) * 1000);
    }
    throw new Error(`${path}: still rate limited after 4 attempts`);
  }

  /** A call straight to the emulator's Web API with the connection's current access token. */
  async function atAirtable<T>(path: string): Promise<T> {
    for (let attempt = 1; attempt <= 4; attempt++) {
      const token = await api(`/v1/connections/${IDENTIFIER}/access-token`, { method: "POST" });
      expect(token.status, await token.clone().text()).toBe(200);
      const { access_token } = (await token.json()) as { access_token: string };
      await pacer.turn();
      const response = await fetch(`${cluster.emulator.url}${path}`, {
        headers: { authorization: `Bearer ${access_token}` },
      });
      if (response.ok) return (await response.json()) as T;
      if (response.status !== 429)
        throw new Error(`emulator ${path}: ${response.status} ${await response.text()}`);
      rateLimited++;
      await sleep((Number(response.headers.get("retry-after")) || 31) * 1000);
    }
    throw new Error(`emulator ${path}: still rate limited after 4 attempts`);
  }

  /** Every payload Airtable holds for the webhook from `cursor` on, paging as an app would. */
  async function upstreamPayloads(cursor = 1): Promise<{ payloads: AirtablePayload[]; nextCursor: number }> {
    const payloads: AirtablePayload[] = [];
    let next = cursor;
    for (;;) {
      const page = await atAirtable<{ payloads: AirtablePayload[]; cursor: number; mightHaveMore: boolean }>(
        `/v0/bases/${baseId}/webhooks/${webhook.airtable_webhook_id}/payloads?cursor=${next}`,
      );
      payloads.push(...page.payloads);
      next = page.cursor;
      if (!page.mightHaveMore) return { payloads, nextCursor: next };
    }
  }

  async function upstreamWebhook(): Promise<UpstreamWebhook | undefined> {
    const { webhooks } = await atAirtable<{ webhooks: UpstreamWebhook[] }>(`/v0/bases/${baseId}/webhooks`);
    return webhooks.find((w) => w.id === webhook.airtable_webhook_id);
  }

  async function ourWebhook(): Promise<AirtableWebhookView> {
    const response = await api(`/v1/connections/${IDENTIFIER}/airtable-webhooks`);
    expect(response.status, await response.clone().text()).toBe(200);
    const { airtable_webhooks } = (await response.json()) as { airtable_webhooks: AirtableWebhookView[] };
    const found = airtable_webhooks.find((w) => w.id === webhook.id);
    if (!found) throw new Error(`webhook ${webhook.id} is not listed: ${JSON.stringify(airtable_webhooks)}`);
    return found;
  }

  async function emulatorNow(): Promise<number> {
    const response = await fetch(`${cluster.emulator.url}/__emulator/clock`);
    return Date.parse(((await response.json()) as { now: string }).now);
  }

  /** The accepted `airtable.payloads` events of our webhook, in arrival order. */
  const payloadEvents = () =>
    accepted
      .filter((event) => event.type === "airtable.payloads")
      .map((event) => ({ id: event.id, data: event.data as unknown as PayloadsEventData }))
      .filter((event) => event.data.webhook_id === webhook.id);

  /** Creates records named `names` (≤ 10, one Airtable request) through the proxy on `via`. */
  async function createRecords(via: Instance, names: string[]): Promise<void> {
    const body = { records: names.map((name) => ({ fields: { Version: name } })) };
    const answer = (await throughProxy(via, `/v0/${baseId}/${tableId}`, { method: "POST", body })) as {
      records: { id: string; fields: { Version: string } }[];
    };
    for (const record of answer.records) log.created.set(record.id, record.fields.Version);
  }

  /** Renames records (≤ 10, one Airtable request) through the proxy on `via`. */
  async function renameRecords(via: Instance, renames: { id: string; name: string }[]): Promise<void> {
    const body = { records: renames.map(({ id, name }) => ({ id, fields: { Version: name } })) };
    await throughProxy(via, `/v0/${baseId}/${tableId}`, { method: "PATCH", body });
    for (const { id, name } of renames) log.renamed.set(id, name);
  }

  /**
   * Waits until the receiver holds events up to Airtable's current cursor and our webhook has
   * nothing left to deliver, then a little longer (a late duplicate would show up meanwhile).
   */
  async function waitUntilAllDelivered(timeoutMs: number): Promise<void> {
    await waitFor(
      async () => {
        // Airlock's side first (cheap); Airtable is asked only when Airlock looks done.
        const last = payloadEvents().at(-1);
        const view = await ourWebhook();
        if (view.delivery.pending !== 0 || last?.data.next_cursor !== view.cursor) return false;
        return (await upstreamWebhook())?.cursorForNextPayload === view.cursor;
      },
      {
        timeoutMs,
        intervalMs: 1500,
        message: "the payloads were not all delivered",
      },
    ).catch(async (error: Error) => {
      const view = await ourWebhook().catch((e: Error) => e.message);
      const last = payloadEvents().at(-1)?.data;
      throw new Error(
        `${error.message}; last event [${last?.cursor}, ${last?.next_cursor}); ours: ${JSON.stringify(view)}`,
      );
    });
    await sleep(3000);
  }

  /**
   * The heart of the acceptance: the events are a gapless chain of cursors from 1 (each event
   * starts where the previous ended), no event arrived twice, each holds at most a page, and
   * together they are exactly the payloads Airtable lists for the webhook, in order.
   */
  async function expectEveryPayloadExactlyOnceInOrder(): Promise<AirtablePayload[]> {
    expect(refused).toEqual([]);
    const events = payloadEvents();
    expect(duplicates(events.map((event) => event.id)), "webhook-ids delivered twice").toEqual([]);
    let next = 1;
    for (const { id, data } of events) {
      expect(data.cursor, `event ${id} starts at the previous event's next_cursor`).toBe(next);
      expect(data.payloads.length).toBeLessThanOrEqual(PAGE_SIZE);
      expect(data.next_cursor, `event ${id}: next_cursor = cursor + its payloads`).toBe(
        data.cursor + data.payloads.length,
      );
      expect(data).toMatchObject({
        airtable_webhook_id: webhook.airtable_webhook_id,
        base_id: baseId,
      });
      next = data.next_cursor;
    }
    const delivered = events.flatMap((event) => event.data.payloads);
    const upstream = await upstreamPayloads(1);
    expect(delivered.length).toBe(upstream.payloads.length);
    expect(delivered).toEqual(upstream.payloads);
    const view = await ourWebhook();
    expect(view.cursor).toBe(upstream.nextCursor);
    expect(view.status).toBe("active");
    return delivered;
  }

  /** Every create and every rename the test made is in some delivered payload, with its value. */
  function expectEveryChangeIn(payloads: AirtablePayload[]): void {
    const created = new Map<string, unknown>();
    const renamed = new Map<string, unknown>();
    for (const payload of payloads) {
      const table = payload.changedTablesById?.[tableId];
      for (const [id, record] of Object.entries(table?.createdRecordsById ?? {}))
        created.set(id, record.cellValuesByFieldId[nameFieldId]);
      for (const [id, record] of Object.entries(table?.changedRecordsById ?? {}))
        renamed.set(id, record.current.cellValuesByFieldId[nameFieldId]);
    }
    const missingCreates = [...log.created].filter(([id, name]) => created.get(id) !== name);
    const missingRenames = [...log.renamed].filter(([id, name]) => renamed.get(id) !== name);
    expect(missingCreates, "creates absent from the delivered payloads").toEqual([]);
    expect(missingRenames, "renames absent from the delivered payloads").toEqual([]);
  }

  beforeAll(async () => {
    const receiverUrl = await startReceiver();
    cluster = await startCluster({
      label: "airtable-webhooks",
      instances: 3,
      env: {
        AIRLOCK_WEBHOOK_URL: receiverUrl,
        AIRLOCK_WEBHOOK_SECRET: SECRET,
        AIRLOCK_KEEPALIVE_INTERVAL_SECONDS: "1",
        AIRLOCK_AIRTABLE_WEBHOOK_LEASE_SECONDS: String(LEASE_SECONDS),
        // The emulator's integration enables every basic scope; the connection asks for these.
        AIRTABLE_SCOPES:
          "data.records:read data.records:write schema.bases:read webhook:manage user.email:read",
      },
      front: async (instanceUrls) => {
        front = await startNotificationFront(instanceUrls);
        return front;
      },
    });
    await cluster.connect(IDENTIFIER);

    // "Product Roadmap" is the sample base the user created (webhooks need that); Releases is small.
    const via = cluster.instances[0]!;
    const { bases } = (await throughProxy(via, "/v0/meta/bases")) as {
      bases: { id: string; name: string }[];
    };
    baseId = bases.find((base) => base.name === "Product Roadmap")!.id;
    const { tables } = (await throughProxy(via, `/v0/meta/bases/${baseId}/tables`)) as {
      tables: { id: string; name: string; fields: { id: string; name: string }[] }[];
    };
    const releases = tables.find((table) => table.name === "Releases")!;
    tableId = releases.id;
    nameFieldId = releases.fields.find((field) => field.name === "Version")!.id;

    const created = await cluster.api(`/v1/connections/${IDENTIFIER}/airtable-webhooks`, {
      method: "POST",
      body: JSON.stringify({
        base_id: baseId,
        specification: { options: { filters: { dataTypes: ["tableData"], recordChangeScope: tableId } } },
      }),
    });
    expect(created.status, await created.clone().text()).toBe(201);
    webhook = (await created.json()) as AirtableWebhookView;
    expect(webhook).toMatchObject({ identifier: IDENTIFIER, base_id: baseId, status: "active", cursor: 1 });
    expect(webhook.notification_url).toBe(`${cluster.publicUrl}${NOTIFICATION_PREFIX}${webhook.id}`);
    expect((await upstreamWebhook())?.notificationUrl).toBe(webhook.notification_url);
  }, 120_000);

  afterAll(async () => {
    const stats = await cluster?.emulator.stats().catch(() => undefined);
    await cluster?.close(); // also closes the front
    await new Promise((resolve) => receiver?.close(resolve));
    // For post-mortems: how often Airtable's rate limit bit (us or the service).
    process.stderr.write(
      `[airtable-webhooks] /v0 requests ${stats?.api_requests}, answered 429 ${stats?.rate_limited} (to our calls: ${rateLimited})\n`,
    );
  });

  it("refuses, on every instance, a ping whose MAC does not verify", async () => {
    const body = JSON.stringify({
      base: { id: baseId },
      webhook: { id: webhook.airtable_webhook_id },
      timestamp: new Date().toISOString(),
    });
    for (const instance of cluster.instances) {
      for (const mac of [`hmac-sha256=${"0".repeat(64)}`, undefined]) {
        const response = await fetch(`${instance.url}${NOTIFICATION_PREFIX}${webhook.id}`, {
          method: "POST",
          headers: { "content-type": "application/json", ...(mac ? { "x-airtable-content-mac": mac } : {}) },
          body,
        });
        expect(response.status, `${instance.name}, MAC ${mac ?? "missing"}`).toBe(401);
      }
    }
  });

  it("delivers 200 record changes exactly once and in order, with pings reaching all three instances at once", async () => {
    const pingsBefore = front.pings().length;
    // 100 creates in 10 requests, then 100 renames in 50 requests: 60 Airtable payloads. The pings of
    // the first 52 are held so that their release finds a backlog longer than one page (50); the
    // last 8 changes are made while that backlog is being fetched, with their pings live.
    const HELD_CHANGES = 52;
    const changes: ((via: Instance) => Promise<void>)[] = [];
    for (let batch = 0; batch < 10; batch++) {
      const names = Array.from({ length: 10 }, (_, i) => `mp-${batch * 10 + i}`);
      changes.push((via) => createRecords(via, names));
    }
    const creations = () => [...log.created.keys()];
    for (let pair = 0; pair < 50; pair++) {
      changes.push((via) =>
        renameRecords(
          via,
          creations()
            .slice(pair * 2, pair * 2 + 2)
            .map((id) => ({ id, name: `${log.created.get(id)} renamed` })),
        ),
      );
    }

    front.hold();
    pacer.spacingMs = SPACING_WHILE_PINGS_HELD_MS;
    let released: Promise<unknown> | undefined;
    for (const [index, change] of changes.entries()) {
      if (index === HELD_CHANGES) {
        // Airtable pings shortly after each change: wait for the held ones before releasing them.
        await waitFor(() => front.heldCount() >= HELD_CHANGES, { message: "the held pings did not arrive" });
        await sleep(1100); // our fast writes leave Airtable's one-second window before the fetches start
        pacer.spacingMs = SPACING_WHILE_PINGS_FLOW_MS;
        released = front.release();
      }
      await change(cluster.instances[index % cluster.instances.length]!); // writes spread over instances
    }
    await released;
    expect(log.created.size).toBe(100);
    expect(log.renamed.size).toBe(100);

    await waitUntilAllDelivered(120_000);
    const delivered = await expectEveryPayloadExactlyOnceInOrder();
    expect(delivered.length).toBe(changes.length);
    expectEveryChangeIn(delivered);
    const pageSizes = payloadEvents().map((event) => event.data.payloads.length);
    expect(Math.max(...pageSizes), `the held backlog was fetched in full pages: ${pageSizes}`).toBe(
      PAGE_SIZE,
    );

    // Every ping reached all three instances, and each verified its MAC (204), not only one of them.
    const pings = front.pings().slice(pingsBefore);
    expect(pings.length).toBe(changes.length);
    for (const ping of pings) {
      expect(ping.path).toBe(`${NOTIFICATION_PREFIX}${webhook.id}`);
      expect(ping.answers.map((answer) => answer.status)).toEqual([204, 204, 204]);
    }
  }, 300_000);

  it("loses and duplicates nothing when the instance fetching the payloads is killed -9", async () => {
    front.hold();
    await createRecords(live(), ["mp-crash"]);
    await waitFor(() => front.heldCount() >= 1, { message: "the emulator did not ping" });
    const eventsBefore = payloadEvents().length;
    // The next /v0 request, the fetch the released pings start, hangs at Airtable for 8 s.
    await cluster.emulator.faults({ api: { delay_ms: 8000, count: 1 } });
    const released = front.release(); // the instances answer the pings; the fetch runs meanwhile

    const owner = await waitFor(
      async () => {
        if ((await cluster.emulator.armed()).api !== null) return undefined; // the slow request is not in yet
        const rows = await cluster.db.query<{ lease_owner: string | null }>(
          "SELECT lease_owner FROM airtable_webhooks WHERE id = $1",
          [webhook.id],
        );
        return rows[0]?.lease_owner ?? undefined;
      },
      { timeoutMs: 20_000, intervalMs: 50, message: "nobody took the fetch lease with the slow request in" },
    );
    const pid = Number(/^awh-(\d+)-/.exec(owner)?.[1]);
    const holder = cluster.instances.find((instance) => instance.child.pid === pid);
    expect(holder, `lease owner ${owner} is none of the instances`).toBeDefined();
    holder!.child.process.kill("SIGKILL");
    await holder!.child.exited;
    await released;
    expect(payloadEvents().length, "the change was delivered before the kill: nothing was interrupted").toBe(
      eventsBefore,
    );

    // The survivors got the same pings, but the dead holder's lease is still live: they wait.
    await sleep(3000);
    expect(payloadEvents().length, "a survivor fetched while the dead holder's lease was live").toBe(
      eventsBefore,
    );
    // Nobody releases the dead holder's lease: the survivors' clocks (and Airtable's) pass its end.
    const survivors = cluster.instances.filter((instance) => instance !== holder);
    for (const survivor of survivors) survivor.clock.advance(LEASE_SECONDS + 10);
    await cluster.emulator.advanceClock(LEASE_SECONDS + 10);

    await waitUntilAllDelivered(90_000);
    const delivered = await expectEveryPayloadExactlyOnceInOrder();
    expectEveryChangeIn(delivered);
    const lease = await cluster.db.query<{ lease_owner: string | null }>(
      "SELECT lease_owner FROM airtable_webhooks WHERE id = $1",
      [webhook.id],
    );
    expect(lease[0]?.lease_owner ?? null, "a survivor holds the lease for ever").not.toBe(owner);

    // Back on the survivors' time, so all clocks agree again for what follows.
    holder!.clock.advance(survivors[0]!.clock.offsetSeconds - holder!.clock.offsetSeconds);
    await holder!.start();
  }, 180_000);

  it("keeps the webhook alive through 8 days of clock jumps, then still delivers", async () => {
    // Airtable's webhook dies 7 days after its creation or last refresh; the keeper must refresh it
    // well before (about daily: once less than 6 of the 7 days are left). No change is made until
    // the end, so Airlock's expiration_time moves only when the keeper refreshes.
    const refreshes = new Set<string | null>();
    for (let hours = 12; hours <= 8 * 24; hours += 12) {
      await cluster.advanceAll(12 * HOUR);
      await waitFor(
        async () => {
          const view = await ourWebhook();
          if (view.status !== "active") throw new Error(`status ${view.status}: ${view.last_error}`);
          refreshes.add(view.last_refreshed_at);
          const left = Date.parse(view.expiration_time ?? "") - (await emulatorNow());
          return left > 6 * DAY * 1000;
        },
        {
          timeoutMs: 30_000,
          intervalMs: 500,
          message: `after ${hours} h the keeper did not refresh the webhook (6+ days left)`,
        },
      );
    }

    refreshes.delete(null);
    expect(refreshes.size, "refreshes seen over 8 days (about one a day)").toBeGreaterThanOrEqual(7);

    const upstream = await upstreamWebhook();
    expect(upstream?.isHookEnabled, "Airtable disabled the webhook").toBe(true);
    expect(Date.parse(upstream!.expirationTime)).toBeGreaterThan(await emulatorNow());
    expect((await ourWebhook()).status).toBe("active");
    expect(await cluster.events("airtable.webhook_lost")).toEqual([]);
    expect(accepted.filter((event) => event.type === "airtable.webhook_lost")).toEqual([]);

    // A change after the 8 days still arrives, continuing the chain. (Airtable keeps payloads a week,
    // so the comparison with its list covers only the new one.)
    const cursorBefore = payloadEvents().at(-1)!.data.next_cursor;
    await createRecords(live(), ["mp-after-8-days"]);
    await waitUntilAllDelivered(60_000);
    expect(refused).toEqual([]);
    const events = payloadEvents();
    expect(duplicates(events.map((event) => event.id))).toEqual([]);
    const fresh = events.filter((event) => event.data.cursor >= cursorBefore);
    expect(fresh[0]?.data.cursor).toBe(cursorBefore);
    const deliveredNow = fresh.flatMap((event) => event.data.payloads);
    expect(deliveredNow).toEqual((await upstreamPayloads(cursorBefore)).payloads);
    const last = [...log.created].at(-1)!;
    expect(deliveredNow.some((p) => p.changedTablesById?.[tableId]?.createdRecordsById?.[last[0]])).toBe(
      true,
    );
  }, 420_000);
});
