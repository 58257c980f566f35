import { describe, expect, it } from "vitest";
import { checkEndpoint, isLoopbackHost, joinPath, oauthEndpoints } from "./endpoints.js";

describe("endpoints", () => {
  it("builds Airtable's authorize and token URLs, keeping a path prefix", () => {
    const { authorizationEndpoint, tokenEndpoint } = oauthEndpoints("https://airtable.com");
    expect(authorizationEndpoint.href).toBe("https://airtable.com/oauth2/v1/authorize");
    expect(tokenEndpoint.href).toBe("https://airtable.com/oauth2/v1/token");
    expect(oauthEndpoints("http://127.0.0.1:4010/airtable/").tokenEndpoint.href).toBe(
      "http://127.0.0.1:4010/airtable/oauth2/v1/token",
    );
    expect(joinPath("https://api.airtable.com/", "/v0/meta/whoami").href).toBe(
      "https://api.airtable.com/v0/meta/whoami",
    );
  });

  it("knows loopback hosts", () => {
    for (const h of ["localhost", "127.0.0.1", "127.1.2.3", "[::1]", "::1", "LOCALHOST"]) {
      expect(isLoopbackHost(h), h).toBe(true);
    }
    for (const h of ["airtable.com", "10.0.0.1", "localhost.evil.com", "128.0.0.1"]) {
      expect(isLoopbackHost(h), h).toBe(false);
    }
  });

  it("accepts the defaults and the emulator on loopback", () => {
    expect(checkEndpoint("https://airtable.com", "oauth")).toEqual([]);
    expect(checkEndpoint("https://api.airtable.com/", "api")).toEqual([]);
    expect(checkEndpoint("http://127.0.0.1:4010", "oauth")).toEqual([]);
    expect(checkEndpoint("http://localhost:4010", "api")).toEqual([]);
  });

  it("flags Google's OAuth URLs", () => {
    for (const url of ["https://oauth2.googleapis.com/token", "https://accounts.google.com/o/oauth2/auth"]) {
      const problems = checkEndpoint(url, "oauth");
      expect(
        problems.some((p) => p.level === "error" && p.message.includes("Google")),
        url,
      ).toBe(true);
      expect(problems[0]?.fix).toContain("https://airtable.com");
      // One clear instruction: no second fix pointing back at Google's origin.
      expect(problems.every((p) => !p.fix.includes("google"))).toBe(true);
    }
  });

  it("flags api.airtable.com/oauth/token and endpoint paths in a base URL", () => {
    const problems = checkEndpoint("https://api.airtable.com/oauth/token", "oauth");
    expect(problems.map((p) => p.message).join(" ")).toMatch(/Web API, not the OAuth server/);
    // The wrong host is the one problem to report; "drop the path" would point back at the Web API.
    expect(problems).toHaveLength(1);
    expect(problems[0]?.fix).toContain("AIRTABLE_OAUTH_URL=https://airtable.com");
    expect(checkEndpoint("https://airtable.com/oauth2/v1/token", "oauth")[0]?.fix).toContain(
      "AIRTABLE_OAUTH_URL=https://airtable.com",
    );
    expect(checkEndpoint("https://api.airtable.com/v0", "api")[0]?.level).toBe("error");
    expect(checkEndpoint("https://airtable.com", "api")[0]?.message).toMatch(/OAuth server, not the Web API/);
  });

  it("refuses plain http off loopback and non-URLs; warns about other hosts", () => {
    expect(checkEndpoint("http://airtable.com", "oauth")[0]).toMatchObject({ level: "error" });
    expect(checkEndpoint("airtable.com", "oauth")[0]?.message).toMatch(/not an absolute URL/);
    expect(checkEndpoint("https://proxy.example.com", "oauth")).toMatchObject([{ level: "warn" }]);
  });
});
