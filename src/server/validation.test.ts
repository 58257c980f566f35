import { describe, expect, it } from "vitest";
import { isAirlockError } from "../shared/errors.js";
import { assertIdentifier, checkReturnUrl } from "./validation.js";

const config = { publicOrigin: "http://localhost:4000", allowedReturnOrigins: ["https://app.example.com"] };

describe("checkReturnUrl", () => {
  it("accepts allowed origins", () => {
    expect(checkReturnUrl("http://localhost:4000/done?x=1", config)).toBe("http://localhost:4000/done?x=1");
    expect(checkReturnUrl("https://APP.example.com/a", config)).toBe("https://app.example.com/a");
  });

  it.each([
    "//evil.example",
    "/local",
    "javascript:alert(1)",
    "https://evil.example",
    "http://localhost:4000@evil.example/",
    "http://u:p@localhost:4000/",
    "https://app.example.com.evil.example/",
    "http://evil.example\\@localhost:4000/",
    "http://localhost:4000/\r\nx",
    " http://localhost:4000/",
    "http://localhost:4001/",
  ])("refuses %j", (url) => {
    expect(() => checkReturnUrl(url, config)).toThrow(/return_url/);
  });
});

describe("assertIdentifier", () => {
  it.each(["user_123", "a", "user@example.com", "org:42+team", "x".repeat(255)])("accepts %j", (id) => {
    expect(() => assertIdentifier(id)).not.toThrow();
  });
  it.each(["", ".", "..", "../x", "a/b", "a b", "x".repeat(256), "-lead", "é"])("refuses %j", (id) => {
    let caught: unknown;
    try {
      assertIdentifier(id);
    } catch (error) {
      caught = error;
    }
    expect(isAirlockError(caught, "invalid_input")).toBe(true);
  });
});
