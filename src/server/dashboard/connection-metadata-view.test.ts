/**
 * The connection page's metadata (issue 12): pretty JSON, escaped like every value, cut when long,
 * "none" when the connection has none.
 */
import { describe, expect, it } from "vitest";
import type { ConnectionSummary } from "../../store/types.js";
import { connectionPage } from "./views.js";

const now = new Date("2026-12-01T00:00:00.000Z");
const connection = (metadata: ConnectionSummary["metadata"]): ConnectionSummary => ({
  integration: "default",
  identifier: "user_1",
  status: "active",
  statusReason: null,
  scopes: ["data.records:read"],
  airtableUserId: "usr1",
  email: null,
  accessTokenExpiresAt: new Date(now.getTime() + 3600_000),
  refreshTokenExpiresAt: new Date(now.getTime() + 60 * 86400_000),
  lastRefreshedAt: now,
  createdAt: now,
  updatedAt: now,
  version: 1,
  metadata,
});
const render = async (metadata: ConnectionSummary["metadata"]) =>
  (
    await connectionPage(
      { title: "user_1", demo: null, csrf: "c", now, base: "", integrations: [] },
      { csrf: "c", connection: connection(metadata), events: [], notice: null, tryIt: null },
    )
  ).toString();

describe("the connection page's metadata", () => {
  it("shows it as escaped, pretty JSON", async () => {
    const text = await render({ plan: "pro", note: "<script>alert(1)</script>" });
    expect(text).toContain("<dt>Metadata</dt>");
    expect(text).toContain("&quot;plan&quot;: &quot;pro&quot;");
    expect(text).not.toContain("<script>alert(1)</script>");
    expect(text).toContain("&lt;script&gt;");
  });

  it("cuts long metadata and says where the whole of it is", async () => {
    const text = await render({ blob: "y".repeat(3000) });
    expect(text).toContain("Truncated");
    expect(text).not.toContain("y".repeat(1600));
  });

  it("says none when there is none", async () => {
    const text = await render(null);
    expect(text).toMatch(/<dt>Metadata<\/dt><dd><span class="muted">none<\/span>/);
  });
});
