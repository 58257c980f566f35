import { describe, expect, it } from "vitest";
import { basicMatches, parseBasic, safeEqual } from "./client-auth.js";

describe("Basic client authentication", () => {
  const id = "client-1";
  const secret = "s3cr?t>>/+=";

  it("accepts standard base64 and base64url encodings of the same credentials", () => {
    const standard = Buffer.from(`${id}:${secret}`).toString("base64");
    const url = Buffer.from(`${id}:${secret}`).toString("base64url");
    expect(standard).not.toBe(url);
    for (const encoded of [standard, url]) {
      const creds = parseBasic(`Basic ${encoded}`);
      expect(creds).toEqual({ id, secret });
      expect(basicMatches(creds!, id, secret)).toBe(true);
    }
  });

  it("accepts RFC 6749 form-encoded credentials too", () => {
    const encoded = Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString("base64");
    expect(basicMatches(parseBasic(`basic ${encoded}`)!, id, secret)).toBe(true);
  });

  it("refuses wrong or malformed credentials", () => {
    const wrong = Buffer.from(`${id}:nope`).toString("base64");
    expect(basicMatches(parseBasic(`Basic ${wrong}`)!, id, secret)).toBe(false);
    expect(parseBasic("Bearer abc")).toBeUndefined();
    expect(parseBasic("Basic ***")).toBeUndefined();
    expect(parseBasic(`Basic ${Buffer.from("no-colon").toString("base64")}`)).toBeUndefined();
  });

  it("safeEqual compares strings", () => {
    expect(safeEqual("a", "a")).toBe(true);
    expect(safeEqual("a", "ab")).toBe(false);
  });
});
