import { describe, expect, it } from "vitest";
import type { AirtableWebhookDelivery, AirtableWebhookRecord } from "../../store/types.js";
import { airtableWebhooksSection, airtableWebhookViews } from "./airtable-webhooks-view.js";

const now = new Date("2025-01-01T12:00:00.000Z");

function stored(overrides: Partial<AirtableWebhookRecord> = {}): AirtableWebhookRecord {
  return {
    id: "awh_3f2a9c0d1e4b5a6c7d8e",
    integration: "default",
    identifier: "user_1",
    baseId: "appABCDEFGHIJKLMN",
    airtableWebhookId: "achABCDEFGHIJKLMN",
    status: "active",
    specification: { options: { filters: { dataTypes: ["tableData"] } } },
    notificationUrl: "http://localhost:4000/airtable/notifications/awh_3f2a9c0d1e4b5a6c7d8e",
    expirationTime: new Date("2025-01-08T12:00:00.000Z"),
    cursor: 7,
    pings: 3,
    fetchedPings: 3,
    lastPingAt: new Date("2025-01-01T11:58:00.000Z"),
    lastFetchAt: null,
    lastRefreshedAt: null,
    leaseOwner: null,
    leaseUntil: null,
    nextAttemptAt: null,
    failures: 0,
    lastError: null,
    createdAt: new Date("2025-01-01T00:00:00.000Z"),
    updatedAt: new Date("2025-01-01T00:00:00.000Z"),
    ...overrides,
  };
}

/** The section's markup for these stored webhooks and their outbox state. */
async function render(
  rows: Array<[AirtableWebhookRecord, AirtableWebhookDelivery]>,
  connectionStatus: "active" | "reauth_required" = "active",
  identifier = "user_1",
): Promise<string> {
  const views = airtableWebhookViews(
    rows.map(([w, delivery]) => ({ ...w, delivery })),
    connectionStatus,
  );
  return String(await airtableWebhooksSection(identifier, views, now));
}

describe("the Airtable webhooks section", () => {
  it("shows each webhook's id, base, status, expiry, last ping, cursor and delivery", async () => {
    const page = await render([[stored(), { pending: 0, lastError: null }]]);
    expect(page).toContain('<h2 id="airtable-webhooks-heading">Airtable webhooks</h2>');
    expect(page).toContain("<code>awh_3f2a9c0d1e4b5a6c7d8e</code>");
    expect(page).toContain("achABCDEFGHIJKLMN");
    expect(page).toContain("<code>appABCDEFGHIJKLMN</code>");
    expect(page).toContain(">Active</span>");
    expect(page).toContain("in 7 days");
    expect(page).toContain("2 minutes ago");
    expect(page).toMatch(/<td class="mono"[^>]*>7<\/td>/);
    expect(page).toContain("<td>delivered</td>");
  });

  it("says paused as the API does, and what is pending and why", async () => {
    const page = await render(
      [
        [
          stored({ lastError: "Airtable answered HTTP 503" }),
          { pending: 3, lastError: "HTTP 500 from receiver" },
        ],
      ],
      "reauth_required",
    );
    expect(page).toContain(">Paused</span>");
    expect(page).toContain('title="paused: ');
    expect(page).toContain("Last error: Airtable answered HTTP 503");
    expect(page).toContain("3 events pending");
    expect(page).toContain("Last attempt: HTTP 500 from receiver");
    expect(
      await render([[stored({ status: "deleted_upstream" }), { pending: 1, lastError: null }]]),
    ).toContain("1 event pending");
    const lost = await render([
      [
        stored({ status: "expired", expirationTime: new Date("2024-12-31T12:00:00Z") }),
        { pending: 0, lastError: null },
      ],
    ]);
    expect(lost).toContain(">Expired</span>");
    expect(lost).toContain("expired <time");
  });

  it("escapes everything it shows", async () => {
    const page = await render(
      [
        [
          stored({ baseId: '<img src=x onerror="alert(1)">', lastError: "<script>alert(1)</script>" }),
          { pending: 1, lastError: '"><b>boom</b>' },
        ],
      ],
      "active",
      '<u>&"',
    );
    expect(page).not.toContain("<script>");
    expect(page).not.toContain("<img");
    expect(page).not.toContain("<b>boom");
    expect(page).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(page).toContain("&quot;&gt;&lt;b&gt;boom&lt;/b&gt;");
  });

  it("with none, names the route that creates one (the identifier encoded and escaped)", async () => {
    const page = await render([], "active", "it's <a&b>");
    expect(page).toContain("No Airtable webhooks.");
    // encodeURIComponent leaves the quote, which the template escapes.
    expect(page).toContain("POST /v1/connections/it&#39;s%20%3Ca%26b%3E/airtable-webhooks");
    expect(page).not.toContain("<table>");
  });
});
