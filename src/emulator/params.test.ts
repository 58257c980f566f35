import { describe, expect, it } from "vitest";
import { isValidChallenge, isValidState, isValidVerifier, singleParams } from "./params.js";

describe("singleParams", () => {
  it("separates duplicates, even empty ones", () => {
    const { values, duplicates } = singleParams(new URLSearchParams("a=1&b=2&b=&c=&b=4"));
    expect([...values]).toEqual([
      ["a", "1"],
      ["c", ""],
    ]);
    expect(duplicates).toEqual(["b"]);
  });
});

describe("Airtable's PKCE and state alphabets", () => {
  it("state: 16–1024 chars of A-Za-z0-9._-", () => {
    expect(isValidState("a".repeat(16))).toBe(true);
    expect(isValidState("a".repeat(1024))).toBe(true);
    expect(isValidState("a".repeat(15))).toBe(false);
    expect(isValidState("a".repeat(1025))).toBe(false);
    expect(isValidState(`${"a".repeat(16)}~`)).toBe(false);
    expect(isValidState(`${"a".repeat(16)} `)).toBe(false);
    expect(isValidState("Az09._-Az09._-Az09")).toBe(true);
  });

  it("verifier: 43–128 chars, no `~` (unlike RFC 7636)", () => {
    expect(isValidVerifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")).toBe(true);
    expect(isValidVerifier("a".repeat(42))).toBe(false);
    expect(isValidVerifier("a".repeat(128))).toBe(true);
    expect(isValidVerifier("a".repeat(129))).toBe(false);
    expect(isValidVerifier(`${"a".repeat(43)}~`)).toBe(false);
  });

  it("challenge: 43 base64url chars", () => {
    expect(isValidChallenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")).toBe(true);
    expect(isValidChallenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM=")).toBe(false);
    expect(isValidChallenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw+cM")).toBe(false);
  });
});
