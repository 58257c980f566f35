import { describe, expect, it } from "vitest";
import { critical, criticalSectionsDone, inCriticalSection } from "./critical.js";

describe("critical sections", () => {
  it("criticalSectionsDone waits for every running section, even one that fails", async () => {
    expect(inCriticalSection()).toBe(false);
    await criticalSectionsDone();
    const events: string[] = [];
    let finishA!: () => void;
    let failB!: (e: Error) => void;
    const a = critical(() => new Promise<void>((resolve) => (finishA = resolve)));
    const b = critical(() => new Promise<void>((_, reject) => (failB = reject))).catch(() =>
      events.push("b failed"),
    );
    const waited = criticalSectionsDone().then(() => events.push("done"));
    expect(inCriticalSection()).toBe(true);
    failB(new Error("network"));
    await b;
    expect(events).toEqual(["b failed"]);
    finishA();
    await a;
    await waited;
    expect(events).toEqual(["b failed", "done"]);
    expect(inCriticalSection()).toBe(false);
  });
});
