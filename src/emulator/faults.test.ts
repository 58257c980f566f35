import { describe, expect, it } from "vitest";
import { defaultTokenError, FaultInjector, faultsBodySchema } from "./faults.js";

describe("faultsBodySchema", () => {
  it("accepts the documented shapes with defaults", () => {
    expect(faultsBodySchema.parse({ token: { status: 503 } })).toEqual({ token: { status: 503, count: 1 } });
    expect(faultsBodySchema.parse({ api: { status: 503, retry_after: 7 } })).toEqual({
      api: { status: 503, count: 1, retry_after: 7 },
    });
    // delay_ms alone: a slow answer that is otherwise normal (no status).
    expect(faultsBodySchema.parse({ api: { delay_ms: 3000, count: 20 } })).toEqual({
      api: { delay_ms: 3000, count: 20 },
    });
    expect(faultsBodySchema.parse({ token: { rotate_then_drop: true, count: 2 } }).token).toEqual({
      rotate_then_drop: true,
      count: 2,
    });
    expect(faultsBodySchema.parse({ token: null, api: null })).toEqual({ token: null, api: null });
  });

  it.each([
    [{}],
    [{ token: {} }],
    [{ token: { status: 200 } }],
    [{ token: { status: 503, count: 0 } }],
    [{ token: { rotate_then_drop: true, status: 500 } }],
    [{ token: { delay_ms: -1 } }],
    [{ api: { status: 503, typo: 1 } }],
    [{ api: {} }],
    [{ api: { count: 2 } }],
    [{ api: { retry_after: 7 } }],
    [{ api: { delay_ms: 100, retry_after: 7 } }],
    [{ nonsense: true }],
    [{ token: { error: "" } }],
  ])("refuses %j", (body) => {
    expect(faultsBodySchema.safeParse(body).success).toBe(false);
  });
});

describe("FaultInjector", () => {
  it("hands out a token fault exactly `count` times", () => {
    const faults = new FaultInjector();
    faults.arm(faultsBodySchema.parse({ token: { status: 500, count: 2 } }));
    expect(faults.snapshot().token?.remaining).toBe(2);
    expect(faults.takeToken()?.status).toBe(500);
    expect(faults.takeToken()?.status).toBe(500);
    expect(faults.takeToken()).toBeUndefined();
    expect(faults.snapshot().token).toBeNull();
  });

  it("hands out a slow-success api fault with no status", () => {
    const faults = new FaultInjector();
    faults.arm(faultsBodySchema.parse({ api: { delay_ms: 50, count: 2 } }));
    expect(faults.takeApi()).toEqual({ delay_ms: 50, count: 2 });
    expect(faults.takeApi()?.status).toBeUndefined();
    expect(faults.takeApi()).toBeUndefined();
  });

  it("keeps token and api faults apart, and null clears one kind", () => {
    const faults = new FaultInjector();
    faults.arm(faultsBodySchema.parse({ token: { status: 500 }, api: { status: 429, count: 3 } }));
    faults.arm(faultsBodySchema.parse({ token: null }));
    expect(faults.takeToken()).toBeUndefined();
    expect(faults.takeApi()?.status).toBe(429);
    faults.clear();
    expect(faults.takeApi()).toBeUndefined();
  });

  it("derives an OAuth error from the status", () => {
    expect(defaultTokenError(401)).toBe("invalid_client");
    expect(defaultTokenError(400)).toBe("invalid_request");
    expect(defaultTokenError(503)).toBe("temporarily_unavailable");
    expect(defaultTokenError(500)).toBe("server_error");
  });
});
