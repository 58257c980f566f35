import { describe, expect, it } from "vitest";
import { isAirlockError } from "../shared/errors.js";
import { checkProxyPath, decodeUntilStable, upstreamBase, upstreamUrl } from "./proxy-path.js";

describe("checkProxyPath", () => {
  it.each([
    "/v0/meta/whoami",
    "/v0/meta/bases",
    "/v0/appAAAAAAAAAAAAAA/Table%20Name",
    "/v0/appAAAAAAAAAAAAAA/A%2FB",
    "/v0/bases/appAAAAAAAAAAAAAA/webhooks/",
    "/v0/app/T/rec..abc",
  ])("allows %s unchanged", (path) => {
    expect(checkProxyPath(path)).toBe(path);
  });

  it.each([
    "",
    "v0/meta",
    "/v0",
    "/v0/",
    "/v1/connections",
    "/oauth2/v1/token",
    "/V0/meta",
    "/v0/../oauth2/v1/token",
    "/v0/%2e%2e/oauth2/v1/token",
    "/v0/%2E%2e/x",
    "/v0/%252e%252e/x",
    "/v0/%25252e%25252e/x",
    "/v0/..%2f..%2fx",
    "/v0/.%2e/x",
    "/v0/./x",
    "/v0/%5c..%5cx",
    "/v0\\..\\x",
    "//evil.example/v0/x",
    "/%2f%2fevil.example/v0",
    "/http://evil.example/v0",
    "/https:%2f%2fevil.example",
    "/v0/x//y",
    "/v0/%00",
    "/v0/%0d%0aHost:evil",
    "/v0/%zz",
    "/v0/%25%32%65%25%32%65/x",
  ])("refuses %j with invalid_input", (path) => {
    let caught: unknown;
    try {
      checkProxyPath(path);
    } catch (error) {
      caught = error;
    }
    expect(isAirlockError(caught, "invalid_input")).toBe(true);
  });
});

describe("decodeUntilStable", () => {
  it("decodes nested encodings", () => {
    expect(decodeUntilStable("%25252e")).toBe(".");
    expect(decodeUntilStable("plain")).toBe("plain");
  });
});

describe("upstreamUrl", () => {
  it("stays on the API origin and keeps a path prefix", () => {
    expect(upstreamUrl("https://api.airtable.com", "/v0/meta/whoami", "?a=1").href).toBe(
      "https://api.airtable.com/v0/meta/whoami?a=1",
    );
    expect(upstreamUrl("http://127.0.0.1:9000/prefix/", "/v0/x", "").href).toBe(
      "http://127.0.0.1:9000/prefix/v0/x",
    );
  });
});

describe("upstreamBase", () => {
  it("keeps the origin and a path prefix, and refuses a scheme-relative path", () => {
    const plain = upstreamBase("https://api.airtable.com");
    expect(plain.origin).toBe("https://api.airtable.com");
    expect(plain.path("/v0/meta/whoami", "?a=1")).toBe("/v0/meta/whoami?a=1");
    const prefixed = upstreamBase("http://127.0.0.1:9000/prefix/");
    expect(prefixed.origin).toBe("http://127.0.0.1:9000");
    expect(prefixed.path("/v0/x", "")).toBe("/prefix/v0/x");
    expect(() => plain.path("//evil.example/v0/x", "")).toThrow(/leave the Airtable API origin/);
  });
});
