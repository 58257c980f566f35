import * as oauth from "oauth4webapi";
import { describe, expect, it } from "vitest";
import { AirlockError } from "../shared/errors.js";
import { classifyTokenFailure, isTransientStatus, tokenEndpointError } from "./token-errors.js";

const refresh = { grant: "refresh_token", hasSecret: false } as const;
const exchange = { grant: "authorization_code", hasSecret: true } as const;

describe("tokenEndpointError", () => {
  it("maps each OAuth error by grant", () => {
    expect(tokenEndpointError({ status: 400, error: "invalid_grant" }, refresh).code).toBe("reauth_required");
    expect(tokenEndpointError({ status: 400, error: "invalid_grant" }, exchange).code).toBe("invalid_grant");
    expect(tokenEndpointError({ status: 401, error: "invalid_client" }, exchange).code).toBe(
      "invalid_client",
    );
    expect(tokenEndpointError({ status: 400, error: "invalid_scope" }, refresh).code).toBe("invalid_scope");
    expect(tokenEndpointError({ status: 400, error: "invalid_request" }, refresh).code).toBe(
      "authorization_failed",
    );
    expect(tokenEndpointError({ status: 400, error: "unsupported_grant_type" }, refresh).code).toBe(
      "authorization_failed",
    );
    expect(tokenEndpointError({ status: 401 }, refresh).code).toBe("invalid_client");
    expect(tokenEndpointError({ status: 404 }, refresh).hint).toMatch(/AIRTABLE_OAUTH_URL/);
  });

  it("treats 5xx, 408, 409 and 429 as transient whatever the body says", () => {
    for (const status of [408, 409, 429, 500, 502, 503, 504]) {
      expect(isTransientStatus(status)).toBe(true);
      const err = tokenEndpointError({ status, error: "invalid_grant" }, refresh);
      expect(err.code, String(status)).toBe("transient");
      expect(err.retryable).toBe(true);
    }
    expect(isTransientStatus(400)).toBe(false);
    expect(tokenEndpointError({ status: 409 }, refresh).hint).toMatch(/re-read/);
  });

  it("clips long descriptions to one line", () => {
    const err = tokenEndpointError(
      { status: 400, error: "invalid_grant", error_description: `a\n${"x".repeat(500)}` },
      exchange,
    );
    expect(err.message).not.toContain("\n");
    expect(err.message.length).toBeLessThan(400);
  });
});

describe("classifyTokenFailure", () => {
  it("classifies timeouts, network errors and bugs", () => {
    const timeout = new DOMException("The operation was aborted due to timeout", "TimeoutError");
    expect(classifyTokenFailure(timeout, refresh).code).toBe("transient");
    const network = new TypeError("fetch failed", {
      cause: Object.assign(new Error("x"), { code: "ECONNREFUSED" }),
    });
    const err = classifyTokenFailure(network, refresh);
    expect(err.code).toBe("transient");
    expect(err.message).toContain("ECONNREFUSED");
    const bug = Object.assign(new TypeError('"refreshToken" must be a string'), {
      code: "ERR_INVALID_ARG_TYPE",
    });
    expect(classifyTokenFailure(bug, refresh).code).toBe("internal");
    expect(classifyTokenFailure(new Error("?"), refresh).code).toBe("internal");
  });

  it("passes AirlockErrors through and maps oauth4webapi's body errors", () => {
    const own = new AirlockError("invalid_input", "x");
    expect(classifyTokenFailure(own, refresh)).toBe(own);
    const body = new oauth.ResponseBodyError("server responded with an error in the response body", {
      cause: { error: "invalid_grant" },
      response: new Response("{}", { status: 400 }),
    });
    expect(classifyTokenFailure(body, refresh).code).toBe("reauth_required");
  });
});
