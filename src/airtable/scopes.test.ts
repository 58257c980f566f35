import { describe, expect, it } from "vitest";
import { syncFailure } from "../../test/support/airlock-error.js";
import {
  formatScopes,
  parseScopes,
  SCOPE_CATALOGUE,
  SCOPE_NAMES,
  scopeInfo,
  suggestScope,
} from "./scopes.js";

const thrown = (fn: () => unknown) => syncFailure(fn, "a throw");

describe("scope catalogue", () => {
  it("has every documented scope once, with tiers", () => {
    expect(new Set(SCOPE_NAMES).size).toBe(SCOPE_NAMES.length);
    expect(SCOPE_NAMES).toHaveLength(25);
    expect(SCOPE_CATALOGUE.filter((s) => s.tier === "basic")).toHaveLength(10);
    expect(SCOPE_CATALOGUE.filter((s) => s.tier === "enterprise_member")).toHaveLength(3);
    expect(SCOPE_CATALOGUE.filter((s) => s.tier === "enterprise_admin")).toHaveLength(12);
    expect(scopeInfo("webhook:manage")?.tier).toBe("basic");
    expect(scopeInfo("enterprise.auditLogs:read")?.tier).toBe("enterprise_admin");
    expect(scopeInfo("webhook.manage")).toBeUndefined();
  });
});

describe("parseScopes", () => {
  it("splits on spaces/commas, trims and de-duplicates in order", () => {
    expect(parseScopes("  data.records:read   schema.bases:read,data.records:read ")).toEqual([
      "data.records:read",
      "schema.bases:read",
    ]);
    expect(parseScopes(["user.email:read", "user.email:read", "webhook:manage"])).toEqual([
      "user.email:read",
      "webhook:manage",
    ]);
  });

  it("requires at least one scope", () => {
    expect(thrown(() => parseScopes("   ")).code).toBe("invalid_scope");
    expect(thrown(() => parseScopes([])).message).toMatch(/At least one scope/);
  });

  it("suggests webhook:manage for webhook.manage", () => {
    const err = thrown(() => parseScopes("data.records:read webhook.manage"));
    expect(err.code).toBe("invalid_scope");
    expect(err.message).toContain("webhook.manage");
    expect(err.hint).toContain("Did you mean webhook:manage");
    expect(err.details).toMatchObject({ unknown: ["webhook.manage"] });
  });

  it("suggests for case and separator slips and small typos, not for nonsense", () => {
    expect(suggestScope("DATA.RECORDS:READ")).toBe("data.records:read");
    expect(suggestScope("data.records.read")).toBe("data.records:read");
    expect(suggestScope("schema:bases:read")).toBe("schema.bases:read");
    expect(suggestScope("data.record:read")).toBe("data.records:read");
    expect(suggestScope("user.emial:read")).toBe("user.email:read");
    expect(suggestScope("https://www.googleapis.com/auth/drive")).toBeUndefined();
    const err = thrown(() => parseScopes("openid"));
    expect(err.hint).toContain("openid is not an Airtable scope");
  });

  it("formats a unique space-joined list", () => {
    expect(formatScopes(["a", "b", "a"])).toBe("a b");
  });
});
