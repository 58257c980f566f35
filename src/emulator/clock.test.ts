import { describe, expect, it } from "vitest";
import { EmulatorClock } from "./clock.js";

describe("EmulatorClock", () => {
  it("follows the real clock plus the advanced offset", () => {
    let real = 1_000_000;
    const clock = new EmulatorClock(() => real);
    expect(clock.now()).toBe(1_000_000);
    clock.advance(61 * 60);
    expect(clock.now()).toBe(1_000_000 + 61 * 60_000);
    real += 500;
    expect(clock.now()).toBe(1_000_500 + 61 * 60_000);
    expect(clock.offsetSeconds).toBe(3660);
  });

  it("refuses to go backwards or by a non-number", () => {
    const clock = new EmulatorClock();
    expect(() => clock.advance(-1)).toThrow(RangeError);
    expect(() => clock.advance(Number.NaN)).toThrow(RangeError);
  });

  it("resets to real time", () => {
    const clock = new EmulatorClock(() => 5);
    clock.advance(10);
    clock.reset();
    expect(clock.now()).toBe(5);
  });

  it("reports advances and resets (the state file saves the offset)", () => {
    let changes = 0;
    const clock = new EmulatorClock(Date.now, () => changes++);
    clock.advance(0);
    expect(changes).toBe(0);
    clock.advance(5);
    clock.reset();
    expect(changes).toBe(2);
  });
});
