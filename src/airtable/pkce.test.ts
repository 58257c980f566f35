import { describe, expect, it } from "vitest";
import { isAirlockError } from "../shared/errors.js";
import {
  assertCodeVerifier,
  computeCodeChallenge,
  createPkcePair,
  generateCodeVerifier,
  generateState,
  isValidCodeVerifier,
  isValidState,
} from "./pkce.js";

describe("PKCE", () => {
  it("computes the RFC 7636 Appendix B challenge", () => {
    expect(computeCodeChallenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")).toBe(
      "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    );
  });

  it("generates verifiers of the asked length from Airtable's alphabet only (no ~)", () => {
    const all = new Set<string>();
    for (const length of [43, 64, 128]) {
      for (let i = 0; i < 50; i++) {
        const v = generateCodeVerifier(length);
        expect(v).toHaveLength(length);
        expect(v).toMatch(/^[A-Za-z0-9._-]+$/);
        for (const c of v) all.add(c);
      }
    }
    expect(all.has("~")).toBe(false);
    // 11k random characters cover the 65-letter alphabet, including the punctuation.
    expect(all.has(".") && all.has("_") && all.has("-")).toBe(true);
    expect(generateCodeVerifier()).toHaveLength(64);
  });

  it("refuses lengths outside 43–128", () => {
    for (const bad of [42, 129, 50.5]) {
      expect(() => generateCodeVerifier(bad)).toThrow(/43 to 128/);
    }
  });

  it("validates verifiers, rejecting ~ and bad lengths, without echoing the value", () => {
    expect(isValidCodeVerifier("a".repeat(43))).toBe(true);
    expect(isValidCodeVerifier("a".repeat(42))).toBe(false);
    expect(isValidCodeVerifier("a".repeat(129))).toBe(false);
    expect(isValidCodeVerifier(`${"a".repeat(43)}~`)).toBe(false);
    const secretish = `${"s3cr3t".repeat(8)}~`;
    try {
      assertCodeVerifier(secretish);
      expect.unreachable();
    } catch (err) {
      expect(isAirlockError(err, "invalid_input")).toBe(true);
      expect(String((err as Error).message)).not.toContain("s3cr3t");
    }
    expect(() => computeCodeChallenge("short")).toThrow();
  });

  it("generates and validates state (16–1024 chars)", () => {
    const s = generateState();
    expect(isValidState(s)).toBe(true);
    expect(s).toHaveLength(32);
    expect(generateState(16)).toHaveLength(16);
    expect(generateState(1024)).toHaveLength(1024);
    expect(() => generateState(15)).toThrow();
    expect(() => generateState(1025)).toThrow();
    expect(isValidState("a".repeat(15))).toBe(false);
    expect(isValidState("a".repeat(1025))).toBe(false);
    expect(isValidState("abc def ghi jkl mno")).toBe(false);
    expect(generateState()).not.toBe(generateState());
  });

  it("creates a matching pair", () => {
    const { codeVerifier, codeChallenge, state } = createPkcePair();
    expect(computeCodeChallenge(codeVerifier)).toBe(codeChallenge);
    expect(codeChallenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(isValidState(state)).toBe(true);
  });
});
