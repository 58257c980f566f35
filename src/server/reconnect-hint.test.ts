import { describe, expect, it } from "vitest";
import { AirlockError } from "../shared/errors.js";
import { withReconnectHint } from "./reconnect-hint.js";

describe("withReconnectHint", () => {
  it("replaces the token layer's neutral hint with a connect link for reauth_required and not_found", () => {
    const reauth = withReconnectHint(
      new AirlockError("reauth_required", "Connection must be authorized again.", {
        hint: "The user must authorize again.",
        details: { reason: "invalid_grant" },
      }),
      "user_1",
    ) as AirlockError;
    expect(reauth.hint).toContain('POST /v1/connect-sessions {"identifier": "user_1"}');
    expect(reauth.details).toEqual({ identifier: "user_1", reason: "invalid_grant" });

    const missing = withReconnectHint(
      new AirlockError("not_found", 'No connection named "u".'),
      "u",
    ) as AirlockError;
    expect(missing.code).toBe("not_found");
    expect(missing.hint).toMatch(/^Connect it first: POST \/v1\/connect-sessions/);
  });

  it("passes other errors through", () => {
    const transient = new AirlockError("transient", "Store unavailable.");
    expect(withReconnectHint(transient, "u")).toBe(transient);
  });
});
