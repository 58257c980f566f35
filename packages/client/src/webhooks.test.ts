import { createHmac, randomBytes } from "node:crypto";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  type AirtablePayloadsEventData,
  type AirtableWebhookLostEventData,
  type ConnectionWebhookEventData,
  verifyWebhook,
  WebhookVerificationError,
} from "./webhooks.js";

const secret = `whsec_${randomBytes(32).toString("base64")}`;
const now = () => new Date(1_700_000_000_000);
const timestamp = "1700000000";
const body = JSON.stringify({
  type: "connection.created",
  timestamp: "2023-11-14T22:13:20.000Z",
  data: { identifier: "user_1" },
});

/** Signs independently of the code under test, straight from the Standard Webhooks recipe. */
function sign(key: string, id: string, ts: string, payload: string): string {
  const raw = Buffer.from(key.slice("whsec_".length), "base64");
  return `v1,${createHmac("sha256", raw).update(`${id}.${ts}.${payload}`).digest("base64")}`;
}

function headers(overrides: Record<string, string | undefined> = {}) {
  return {
    "webhook-id": "evt_1",
    "webhook-timestamp": timestamp,
    "webhook-signature": sign(secret, "evt_1", timestamp, body),
    ...overrides,
  };
}

function reasonOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof WebhookVerificationError) return error.reason;
    throw error;
  }
  return undefined;
}

describe("verifyWebhook", () => {
  it("returns the parsed event for a valid signature", () => {
    const event = verifyWebhook(secret, headers(), body, { now });
    expect(event).toEqual({
      id: "evt_1",
      type: "connection.created",
      timestamp: "2023-11-14T22:13:20.000Z",
      data: { identifier: "user_1" },
    });
  });

  it("accepts a Uint8Array body, fetch Headers and mixed-case header names", () => {
    const fetchHeaders = new Headers(headers());
    expect(verifyWebhook(secret, fetchHeaders, new TextEncoder().encode(body), { now }).id).toBe("evt_1");
    const upper = {
      "Webhook-Id": "evt_1",
      "WEBHOOK-TIMESTAMP": timestamp,
      "Webhook-Signature": headers()["webhook-signature"],
    };
    expect(verifyWebhook(secret, upper, body, { now }).type).toBe("connection.created");
  });

  it("rejects a tampered body, a wrong secret, and a signature for another id", () => {
    expect(reasonOf(() => verifyWebhook(secret, headers(), body.replace("user_1", "user_2"), { now }))).toBe(
      "invalid_signature",
    );
    const other = `whsec_${randomBytes(32).toString("base64")}`;
    expect(reasonOf(() => verifyWebhook(other, headers(), body, { now }))).toBe("invalid_signature");
    const forOtherId = sign(secret, "evt_2", timestamp, body);
    expect(
      reasonOf(() => verifyWebhook(secret, headers({ "webhook-signature": forOtherId }), body, { now })),
    ).toBe("invalid_signature");
    expect(
      reasonOf(() => verifyWebhook(secret, headers({ "webhook-signature": "v1,garbage" }), body, { now })),
    ).toBe("invalid_signature");
  });

  it("supports several signatures (sender rotating) and several secrets (receiver rotating)", () => {
    const old = `whsec_${randomBytes(32).toString("base64")}`;
    const both = `${sign(old, "evt_1", timestamp, body)} v1,${randomBytes(32).toString("base64")} ${sign(secret, "evt_1", timestamp, body)}`;
    expect(verifyWebhook(secret, headers({ "webhook-signature": both }), body, { now }).id).toBe("evt_1");
    expect(verifyWebhook([old, secret], headers(), body, { now }).id).toBe("evt_1");
    // Only v1 is understood: a v2 signature with the right bytes does not count.
    const v2 = sign(secret, "evt_1", timestamp, body).replace("v1,", "v2,");
    expect(reasonOf(() => verifyWebhook(secret, headers({ "webhook-signature": v2 }), body, { now }))).toBe(
      "invalid_signature",
    );
  });

  it("rejects timestamps outside the tolerance, both ways", () => {
    const old = String(1_700_000_000 - 301);
    const signedOld = sign(secret, "evt_1", old, body);
    expect(
      reasonOf(() =>
        verifyWebhook(secret, headers({ "webhook-timestamp": old, "webhook-signature": signedOld }), body, {
          now,
        }),
      ),
    ).toBe("stale_timestamp");
    const future = String(1_700_000_000 + 301);
    const signedFuture = sign(secret, "evt_1", future, body);
    expect(
      reasonOf(() =>
        verifyWebhook(
          secret,
          headers({ "webhook-timestamp": future, "webhook-signature": signedFuture }),
          body,
          {
            now,
          },
        ),
      ),
    ).toBe("stale_timestamp");
    // A wider tolerance accepts it.
    expect(
      verifyWebhook(secret, headers({ "webhook-timestamp": old, "webhook-signature": signedOld }), body, {
        now,
        toleranceSeconds: 600,
      }).id,
    ).toBe("evt_1");
    expect(
      reasonOf(() => verifyWebhook(secret, headers({ "webhook-timestamp": "12.5" }), body, { now })),
    ).toBe("invalid_timestamp");
  });

  it("names missing headers, bad secrets and non-event bodies", () => {
    expect(reasonOf(() => verifyWebhook(secret, headers({ "webhook-id": undefined }), body, { now }))).toBe(
      "missing_headers",
    );
    expect(reasonOf(() => verifyWebhook(secret, {}, body, { now }))).toBe("missing_headers");
    expect(reasonOf(() => verifyWebhook("not-a-secret", headers(), body, { now }))).toBe("invalid_secret");
    const notEvent = JSON.stringify({ hello: "world" });
    const signed = sign(secret, "evt_1", timestamp, notEvent);
    expect(
      reasonOf(() => verifyWebhook(secret, headers({ "webhook-signature": signed }), notEvent, { now })),
    ).toBe("invalid_payload");
  });

  it("is an AirlockError with a code and a hint", () => {
    try {
      verifyWebhook(secret, headers(), `${body} `, { now });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(WebhookVerificationError);
      const typed = error as WebhookVerificationError;
      expect(typed.code).toBe("unauthorized");
      expect(typed.hint).toMatch(/raw body/);
      expect(typed.message).not.toContain(secret);
    }
  });

  it("types each event's data by its type: airtable.payloads and airtable.webhook_lost", () => {
    const payloads = JSON.stringify({
      type: "airtable.payloads",
      timestamp: "2023-11-14T22:13:20.000Z",
      data: {
        webhook_id: "awh_3f2a9c0d1e4b5a6c7d8e",
        airtable_webhook_id: "achABCDEFGHIJKLMN",
        base_id: "appABCDEFGHIJKLMN",
        cursor: 4,
        next_cursor: 6,
        payloads: [
          { baseTransactionNumber: 7, payloadFormat: "v0" },
          { error: true, code: "INVALID_FILTERS" },
        ],
        identifier: "user_1",
      },
    });
    const signed = (raw: string) => headers({ "webhook-signature": sign(secret, "evt_1", timestamp, raw) });
    const event = verifyWebhook(secret, signed(payloads), payloads, { now });
    if (event.type !== "airtable.payloads") throw new Error(`expected airtable.payloads, got ${event.type}`);
    expectTypeOf(event.data).toEqualTypeOf<AirtablePayloadsEventData>();
    expectTypeOf(event.data.next_cursor).toEqualTypeOf<number>();
    expect(event.data.next_cursor - event.data.cursor).toBe(event.data.payloads.length);
    expect(event.data.payloads[0]?.baseTransactionNumber).toBe(7);

    const lost = JSON.stringify({
      type: "airtable.webhook_lost",
      timestamp: "2023-11-14T22:13:20.000Z",
      data: {
        webhook_id: "awh_3f2a9c0d1e4b5a6c7d8e",
        airtable_webhook_id: "achABCDEFGHIJKLMN",
        base_id: "appABCDEFGHIJKLMN",
        reason: "expired",
        identifier: "user_1",
      },
    });
    const gone = verifyWebhook(secret, signed(lost), lost, { now });
    switch (gone.type) {
      case "airtable.webhook_lost":
        expectTypeOf(gone.data).toEqualTypeOf<AirtableWebhookLostEventData>();
        expect(gone.data.reason).toBe("expired");
        break;
      case "airtable.payloads":
        throw new Error("not a payloads event");
      default:
        expectTypeOf(gone.data).toEqualTypeOf<ConnectionWebhookEventData>();
        throw new Error(`unexpected ${gone.type}`);
    }
  });
});
