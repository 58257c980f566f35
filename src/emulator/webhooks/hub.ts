/**
 * The webhooks of one emulator: who owns each, when it expires, the payloads it has collected from
 * the change feed (numbered by a per-base transaction counter) and the pings it sends.
 */
import { randomBytes } from "node:crypto";
import type { BaseChange, ChangeSource } from "../changes.js";
import type { SampleBase } from "../sample-data.js";
import type { EmulatorState } from "../state.js";
import { type NotificationResult, sendPing } from "./notify.js";
import { type PayloadChanges, payloadChanges } from "./payloads.js";
import type { Source, WebhookSpecification } from "./spec.js";

const DAY_MS = 86_400_000;
/** A webhook made with an OAuth token expires 7 days after creation, refresh or listing its payloads. */
export const WEBHOOK_LIFETIME_MS = 7 * DAY_MS;
/** After it expires, its metadata and payloads stay readable for another 7 days. */
export const EXPIRED_RETENTION_MS = 7 * DAY_MS;
/** Payloads are deleted a week after they were made, seen or not. */
export const PAYLOAD_RETENTION_MS = 7 * DAY_MS;
export const MAX_WEBHOOKS_PER_BASE = 10;
export const MAX_WEBHOOKS_PER_INTEGRATION_PER_BASE = 2;
/** Most payloads one list call returns. */
export const MAX_PAYLOADS_PER_PAGE = 50;

export interface WebhookPayload extends Partial<Record<"changedTablesById" | "createdTablesById", unknown>> {
  timestamp: string;
  baseTransactionNumber: number;
  actionMetadata: { source: Source; sourceMetadata: Record<string, unknown> };
  payloadFormat: "v0";
}

export interface Webhook {
  readonly id: string;
  readonly baseId: string;
  /** The OAuth client id of the integration whose token created it: only it may see the webhook. */
  readonly owner: string;
  readonly notificationUrl: string | null;
  readonly specification: WebhookSpecification;
  readonly macSecret: Buffer;
  expiresAt: number;
  notificationsEnabled: boolean;
  /** In cursor order, oldest first (older than a week are dropped; cursors are never reused). */
  payloads: { cursor: number; madeAt: number; body: WebhookPayload }[];
  cursorForNextPayload: number;
  lastNotificationResult: NotificationResult | null;
  lastSuccessfulNotificationTime: string | null;
}

export type CreateOutcome =
  | Webhook
  | "TOO_MANY_WEBHOOKS_IN_BASE"
  | "TOO_MANY_WEBHOOKS_BY_OAUTH_INTEGRATION_IN_BASE";

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** `ach` and 14 alphanumerics, the shape of Airtable's webhook ids. */
function webhookId(): string {
  return `ach${[...randomBytes(14)].map((b) => ALPHANUMERIC[b % ALPHANUMERIC.length]).join("")}`;
}

/** Changes made through the control API stand for a user in Airtable's UI; the rest came over the API. */
function sourceOf(source: ChangeSource): Source {
  return source.clientId === "control" ? "client" : "publicApi";
}

export class WebhookHub {
  readonly #state: EmulatorState;
  readonly #webhooks = new Map<string, Webhook>();
  readonly #transactions = new Map<string, number>();
  readonly #deliveries = new Set<Promise<unknown>>();

  constructor(state: EmulatorState) {
    this.#state = state;
    state.changes.subscribe((change, source) => this.#record(change, source));
    // A reset is a fresh Airtable: no webhooks, transaction numbers from the start.
    state.onReset(() => {
      this.#webhooks.clear();
      this.#transactions.clear();
    });
  }

  #now(): number {
    return this.#state.clock.now();
  }

  isActive(webhook: Webhook): boolean {
    return this.#now() < webhook.expiresAt;
  }

  /** Forgets webhooks past their extra week after expiry, and payloads older than a week. */
  #prune(): void {
    const now = this.#now();
    for (const [id, webhook] of this.#webhooks) {
      if (now >= webhook.expiresAt + EXPIRED_RETENTION_MS) this.#webhooks.delete(id);
      else webhook.payloads = webhook.payloads.filter((p) => now < p.madeAt + PAYLOAD_RETENTION_MS);
    }
  }

  /** The base's webhooks that `owner` created, oldest first. */
  list(baseId: string, owner: string): Webhook[] {
    this.#prune();
    return [...this.#webhooks.values()].filter((w) => w.baseId === baseId && w.owner === owner);
  }

  /** One of `owner`'s webhooks on the base; undefined for another integration's, as for an unknown id. */
  find(baseId: string, id: string, owner: string): Webhook | undefined {
    this.#prune();
    const webhook = this.#webhooks.get(id);
    return webhook && webhook.baseId === baseId && webhook.owner === owner ? webhook : undefined;
  }

  /** Any webhook by id, whoever owns it (for the control API). */
  byId(id: string): Webhook | undefined {
    this.#prune();
    return this.#webhooks.get(id);
  }

  /** A new webhook, unless the base has 10 or `owner` already has 2 on it. */
  create(input: {
    baseId: string;
    owner: string;
    notificationUrl: string | null;
    specification: WebhookSpecification;
  }): CreateOutcome {
    this.#prune();
    const onBase = [...this.#webhooks.values()].filter((w) => w.baseId === input.baseId);
    if (onBase.length >= MAX_WEBHOOKS_PER_BASE) return "TOO_MANY_WEBHOOKS_IN_BASE";
    if (onBase.filter((w) => w.owner === input.owner).length >= MAX_WEBHOOKS_PER_INTEGRATION_PER_BASE)
      return "TOO_MANY_WEBHOOKS_BY_OAUTH_INTEGRATION_IN_BASE";
    const webhook: Webhook = {
      ...input,
      id: webhookId(),
      macSecret: randomBytes(32),
      expiresAt: this.#now() + WEBHOOK_LIFETIME_MS,
      notificationsEnabled: input.notificationUrl !== null,
      payloads: [],
      cursorForNextPayload: 1,
      lastNotificationResult: null,
      lastSuccessfulNotificationTime: null,
    };
    this.#webhooks.set(webhook.id, webhook);
    return webhook;
  }

  delete(webhook: Webhook): void {
    this.#webhooks.delete(webhook.id);
  }

  /** Seven more days from now (callers check that the webhook is still active). */
  extend(webhook: Webhook): void {
    webhook.expiresAt = this.#now() + WEBHOOK_LIFETIME_MS;
  }

  /** Payloads from `cursor` on (at most `limit`); listing an active webhook extends its life. */
  payloadsPage(webhook: Webhook, cursor: number, limit: number) {
    if (this.isActive(webhook)) this.extend(webhook);
    const from = webhook.payloads.filter((p) => p.cursor >= cursor);
    const page = from.slice(0, limit);
    const last = page.at(-1);
    return {
      payloads: page.map((p) => p.body),
      cursor: last === undefined ? cursor : last.cursor + 1,
      mightHaveMore: from.length > page.length,
    };
  }

  /**
   * Pings the webhook's notificationUrl now and records the result; undefined when it has no URL.
   * The control API uses this directly; changes call it for webhooks with notifications on.
   */
  async ping(webhook: Webhook): Promise<NotificationResult | undefined> {
    if (webhook.notificationUrl === null) return undefined;
    const result = await sendPing(
      {
        url: webhook.notificationUrl,
        baseId: webhook.baseId,
        webhookId: webhook.id,
        macSecret: webhook.macSecret,
        timestamp: new Date(this.#now()).toISOString(),
      },
      () => this.#now(),
    );
    webhook.lastNotificationResult = result;
    if (result.success) webhook.lastSuccessfulNotificationTime = result.completionTimestamp;
    return result;
  }

  /** Resolves once every ping sent so far has been answered or has failed. */
  async settled(): Promise<void> {
    while (this.#deliveries.size > 0) await Promise.allSettled([...this.#deliveries]);
  }

  #actionMetadata(base: SampleBase, source: ChangeSource): WebhookPayload["actionMetadata"] {
    const user = this.#state.data.user;
    const known = user.id === source.userId;
    return {
      source: sourceOf(source),
      sourceMetadata: {
        user: {
          id: source.userId,
          ...(known ? { email: user.email, name: user.name } : {}),
          permissionLevel: base.permissionLevel,
        },
      },
    };
  }

  /** One change: a new transaction on its base, a payload for each active webhook that watches it. */
  #record(change: BaseChange, source: ChangeSource): void {
    const base = this.#state.data.baseById.get(change.baseId);
    if (!base) return;
    const transaction = (this.#transactions.get(base.id) ?? 0) + 1;
    this.#transactions.set(base.id, transaction);
    const timestamp = new Date(this.#now()).toISOString();
    const actionMetadata = this.#actionMetadata(base, source);
    for (const webhook of this.#webhooks.values()) {
      if (webhook.baseId !== base.id || !this.isActive(webhook)) continue;
      const changes: PayloadChanges | undefined = payloadChanges(
        webhook.specification,
        base,
        change,
        sourceOf(source),
      );
      if (!changes) continue;
      const body: WebhookPayload = {
        timestamp,
        baseTransactionNumber: transaction,
        actionMetadata,
        payloadFormat: "v0",
        ...changes,
      };
      webhook.payloads.push({ cursor: webhook.cursorForNextPayload++, madeAt: this.#now(), body });
      if (webhook.notificationsEnabled) this.#deliver(webhook);
    }
  }

  #deliver(webhook: Webhook): void {
    const delivery = this.ping(webhook).finally(() => this.#deliveries.delete(delivery));
    this.#deliveries.add(delivery);
  }
}

const hubs = new WeakMap<EmulatorState, WebhookHub>();

/** The hub of an emulator, made (and subscribed to its change feed) on first use. */
export function webhookHubFor(state: EmulatorState): WebhookHub {
  let hub = hubs.get(state);
  if (!hub) {
    hub = new WebhookHub(state);
    hubs.set(state, hub);
  }
  return hub;
}
