import { describe, expect, it } from "vitest";
import { CONSENT_FIELDS, consentPage, DECISION_PATH, errorPage } from "./consent-page.js";
import { createSampleData } from "./sample-data.js";

describe("consentPage", () => {
  const data = createSampleData();

  it("shows the integration, the scopes in words, every base with a checkbox, Allow and Deny", async () => {
    const text = String(
      await consentPage({
        integrationName: "My App",
        user: data.user,
        scopes: ["data.records:read", "user.email:read"],
        bases: data.bases,
        requestId: "req123",
      }),
    );
    expect(text).toContain("My App wants to access");
    expect(text).toContain("See the data in records");
    expect(text).toContain("See the user&#39;s email address");
    expect(text).toContain(`action="${DECISION_PATH}"`);
    expect(text).toContain(`name="${CONSENT_FIELDS.requestId}" value="req123"`);
    expect(text).toContain(`name="${CONSENT_FIELDS.allBases}"`);
    for (const base of data.bases) expect(text).toContain(`value="${base.id}"`);
    expect(text).toContain('value="allow"');
    expect(text).toContain('value="deny"');
  });

  it("escapes everything it interpolates", async () => {
    const text = String(
      await consentPage({
        integrationName: "<script>alert(1)</script>",
        user: data.user,
        scopes: ["data.records:read"],
        bases: [],
        requestId: '"><img>',
        problem: "<b>x</b>",
      }),
    );
    expect(text).not.toContain("<script>alert");
    expect(text).not.toContain('"><img>');
    expect(text).toContain("&lt;b&gt;x&lt;/b&gt;");
  });

  it("error page carries title and message", async () => {
    const text = String(await errorPage("Bad <thing>", "Fix it"));
    expect(text).toContain("<h1>Bad &lt;thing&gt;</h1>");
    expect(text).toContain("Fix it");
  });
});
