import { describe, expect, it } from "vitest";
import { formatDuration, formatRelative } from "./time.js";

describe("formatDuration / formatRelative", () => {
  it("uses the largest whole unit", () => {
    expect(formatDuration(1)).toBe("1 second");
    expect(formatDuration(300)).toBe("5 minutes");
    expect(formatDuration(3600)).toBe("1 hour");
    expect(formatDuration(60 * 86_400)).toBe("60 days");
    expect(formatDuration(0)).toBe("0 seconds");
  });
  it("says in/ago", () => {
    const now = new Date("2026-01-01T00:00:00Z");
    expect(formatRelative(new Date("2026-01-01T00:59:00Z"), now)).toBe("in 59 minutes");
    expect(formatRelative(new Date("2025-12-31T23:57:00Z"), now)).toBe("3 minutes ago");
  });
});
