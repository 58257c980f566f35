import { describe, expect, it } from "vitest";
import { EmulatorClock } from "./clock.js";
import { BaseRateLimiter } from "./rate-limit.js";

function setup() {
  let real = 1_000_000;
  const clock = new EmulatorClock(() => real);
  return { clock, limiter: new BaseRateLimiter(clock), tick: (ms: number) => (real += ms) };
}

describe("BaseRateLimiter", () => {
  it("allows 5 requests per second per base, then blocks for 30 seconds", () => {
    const { clock, limiter, tick } = setup();
    for (let i = 0; i < 5; i++) expect(limiter.allow("appA")).toBe(true);
    expect(limiter.allow("appA")).toBe(false);
    expect(limiter.retryAfter("appA")).toBe(30);
    // Another base is independent.
    expect(limiter.allow("appB")).toBe(true);
    // Still blocked after a second, and the penalty is not extended by refused requests.
    tick(1000);
    expect(limiter.allow("appA")).toBe(false);
    clock.advance(28);
    expect(limiter.allow("appA")).toBe(false);
    clock.advance(1);
    expect(limiter.retryAfter("appA")).toBe(0);
    expect(limiter.allow("appA")).toBe(true);
  });

  it("uses a sliding one-second window", () => {
    const { limiter, tick } = setup();
    for (let i = 0; i < 5; i++) {
      expect(limiter.allow("appA")).toBe(true);
      tick(250);
    }
    // Now 1250 ms after the first: the requests at 0 and 250 ms left the window, 3 remain, 2 more fit.
    expect(limiter.allow("appA")).toBe(true);
    expect(limiter.allow("appA")).toBe(true);
    expect(limiter.allow("appA")).toBe(false);
  });

  it("reset clears penalties", () => {
    const { limiter } = setup();
    for (let i = 0; i < 6; i++) limiter.allow("appA");
    limiter.reset();
    expect(limiter.allow("appA")).toBe(true);
  });
});
