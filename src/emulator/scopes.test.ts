import { describe, expect, it } from "vitest";
import { BASIC_SCOPES, isKnownScope, parseScopeList, SCOPE_DESCRIPTIONS } from "./scopes.js";

describe("scope catalogue", () => {
  it("knows the basic and enterprise scopes, with the colon spelling", () => {
    expect(BASIC_SCOPES).toContain("webhook:manage");
    expect(isKnownScope("webhook:manage")).toBe(true);
    expect(isKnownScope("webhook.manage")).toBe(false);
    expect(isKnownScope("enterprise.auditLogs:read")).toBe(true);
    expect(isKnownScope("toString")).toBe(false);
    for (const scope of BASIC_SCOPES) expect(SCOPE_DESCRIPTIONS[scope]).toEqual(expect.any(String));
  });

  it("parses space-delimited lists, refusing empty and duplicated ones", () => {
    expect(parseScopeList("data.records:read  schema.bases:read")).toEqual([
      "data.records:read",
      "schema.bases:read",
    ]);
    expect(parseScopeList("")).toBeUndefined();
    expect(parseScopeList("   ")).toBeUndefined();
    expect(parseScopeList("a b a")).toBeUndefined();
  });
});
