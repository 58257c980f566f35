import { describe, expect, it } from "vitest";
import { absoluteTime, reasonText, relativeTime } from "./format.js";

const now = new Date("2026-01-01T00:00:00Z");
const at = (ms: number) => new Date(now.getTime() + ms);

describe("relativeTime", () => {
  it("words expiries the way people read them, never later than they are", () => {
    expect(relativeTime(at(58.9 * 60_000), now)).toBe("in 58 minutes");
    expect(relativeTime(at(60 * 86_400_000 - 5_000), now)).toBe("in 59 days");
    expect(relativeTime(at(3 * 3_600_000 + 10), now)).toBe("in 3 hours");
    expect(relativeTime(at(-2 * 86_400_000), now)).toBe("2 days ago");
    expect(relativeTime(at(-30_000), now)).toBe("just now");
    expect(relativeTime(at(30_000), now)).toBe("in under a minute");
    expect(relativeTime(at(400 * 86_400_000), now)).toBe("in 1 year");
  });

  it("formats absolute times in UTC and reasons in words", () => {
    expect(absoluteTime(new Date("2026-01-02T03:04:05Z"))).toBe("2026-01-02 03:04 UTC");
    expect(reasonText("invalid_grant")).toMatch(/refresh token/);
    expect(reasonText("something_new")).toBe("something new");
  });
});
