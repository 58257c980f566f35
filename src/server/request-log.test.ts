import { describe, expect, it } from "vitest";
import { logSafePath } from "./request-log.js";

describe("logSafePath", () => {
  it("redacts codes, states and token-like query parameters", () => {
    expect(logSafePath("http://h/oauth/callback?code=abc&state=xyz&scope=a")).toBe(
      "/oauth/callback?code=%5Bredacted%5D&state=%5Bredacted%5D&scope=a",
    );
    expect(logSafePath("http://h/v1/proxy/u/v0/x?access_token=t&offset=itr")).toBe(
      "/v1/proxy/u/v0/x?access_token=%5Bredacted%5D&offset=itr",
    );
  });
  it("redacts connect tokens in the path", () => {
    expect(logSafePath("http://h/connect/SECRETTOKEN")).toBe("/connect/[redacted]");
  });
  it("keeps the proxy path", () => {
    expect(logSafePath("http://h/v1/proxy/user_1/v0/meta/whoami")).toBe("/v1/proxy/user_1/v0/meta/whoami");
  });
});
