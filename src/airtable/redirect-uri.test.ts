import { describe, expect, it } from "vitest";
import { checkRedirectUri, loopbackRedirect } from "./redirect-uri.js";

const rules = (uri: string) => checkRedirectUri(uri).map((p) => p.rule);
const errors = (uri: string) =>
  checkRedirectUri(uri)
    .filter((p) => p.level === "error")
    .map((p) => p.rule);

describe("checkRedirectUri", () => {
  it("accepts good URIs", () => {
    for (const uri of [
      "http://localhost:8085/callback",
      "http://127.0.0.1:8085/callback",
      "https://localhost/cb",
      "https://app.example.com/oauth/callback",
      "https://app.example.co.uk/oauth/callback?x=1",
      "https://xn--bcher-kva.ch/cb",
      "https://bücher.ch/cb",
      "https://x.github.io/cb",
      "https://github.io/cb",
    ]) {
      expect(checkRedirectUri(uri), uri).toEqual([]);
    }
  });

  it("requires https except on localhost and 127.0.0.1", () => {
    expect(errors("http://example.com/cb")).toEqual(["https_required"]);
    expect(errors("myapp://callback")).toContain("https_required");
  });

  it("refuses userinfo, fragments, raw IPs, dot segments and wildcards", () => {
    expect(errors("https://user:pw@example.com/cb")).toEqual(["no_userinfo"]);
    expect(errors("https://example.com/cb#frag")).toEqual(["no_fragment"]);
    expect(errors("https://example.com/cb#")).toEqual(["no_fragment"]);
    expect(errors("https://93.184.216.34/cb")).toEqual(["no_raw_ip"]);
    expect(errors("http://[::1]:8085/cb")).toEqual(["https_required", "no_raw_ip"]);
    expect(errors("http://10.0.0.5/cb")).toEqual(["https_required", "no_raw_ip"]);
    expect(errors("https://example.com/a/../cb")).toEqual(["no_dot_segments"]);
    expect(errors("https://example.com/a/%2E%2E/cb")).toEqual(["no_dot_segments"]);
    expect(errors("https://example.com/./cb")).toEqual(["no_dot_segments"]);
    expect(errors("https://*.example.com/cb")).toContain("no_wildcard");
  });

  it("refuses relative URIs", () => {
    expect(rules("/callback")).toEqual(["absolute_url"]);
  });

  it("refuses hosts that do not end in a public suffix, as the public suffix list (tldts) says", () => {
    expect(checkRedirectUri("https://app.notatld/cb")).toMatchObject([
      {
        rule: "public_suffix",
        level: "error",
        message:
          'The redirect URI host "app.notatld" does not end in a public suffix; Airtable requires one (except for localhost).',
      },
    ]);
    for (const uri of [
      "https://intranet/cb",
      "https://printer.local/cb",
      "https://airlock.internal/cb",
      "https://app.test/cb",
      "https://xn--bcher-kva.example/cb",
      // a public suffix alone is no domain
      "https://co.uk/cb",
      "https://com/cb",
    ]) {
      expect(errors(uri), uri).toEqual(["public_suffix"]);
    }
  });

  it("exempts only localhost and 127.0.0.1 from the public-suffix rule", () => {
    expect(errors("http://localhost:8085/callback")).toEqual([]);
    expect(errors("https://localhost/cb")).toEqual([]);
    expect(errors("http://127.0.0.1:8085/callback")).toEqual([]);
    // no other name or address gets the loopback exemptions
    expect(errors("https://app.localhost/cb")).toEqual(["public_suffix"]);
    expect(errors("http://127.0.0.2/cb")).toEqual(["https_required", "no_raw_ip"]);
  });

  it("says how to fix each problem", () => {
    for (const p of checkRedirectUri("http://user@10.0.0.5/a/../cb#x")) {
      expect(p.fix.length).toBeGreaterThan(10);
      expect(p.message.length).toBeGreaterThan(10);
    }
  });
});

describe("loopbackRedirect", () => {
  it("is plain http to localhost or 127.0.0.1; no port means 80", () => {
    expect(loopbackRedirect("http://localhost:8085/callback")).toEqual({
      port: 8085,
      portGiven: true,
      path: "/callback",
    });
    expect(loopbackRedirect("http://127.0.0.1:9000/cb/")).toEqual({
      port: 9000,
      portGiven: true,
      path: "/cb/",
    });
    expect(loopbackRedirect("http://localhost/callback")).toEqual({
      port: 80,
      portGiven: false,
      path: "/callback",
    });
    expect(loopbackRedirect("http://localhost:80/callback")).toEqual({
      port: 80,
      portGiven: true,
      path: "/callback",
    });
  });

  it("is undefined for what a local server cannot receive", () => {
    for (const uri of [
      "https://localhost:8085/callback",
      "https://127.0.0.1/callback",
      "http://example.com:8085/callback",
      "https://app.example.com/oauth/callback",
      "http://[::1]:8085/callback",
      "not a url",
    ]) {
      expect(loopbackRedirect(uri), uri).toBeUndefined();
    }
  });
});
