import { describe, expect, it, vi } from "vitest";
import { type ConnectMessageEvent, type ConnectWindow, connectIn, type PopupWindow } from "./index.js";

const LINK = "https://airlock.example/connect/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

/** A window stand-in: records what was opened, dispatches messages, fake timers drive the polling. */
function fakeWindow(open: (url: string) => PopupWindow | null) {
  const listeners = new Set<(event: ConnectMessageEvent) => void>();
  const opened: { url: string; features: string }[] = [];
  const assigned: string[] = [];
  const win: ConnectWindow = {
    open: (url, _target, features) => {
      opened.push({ url, features });
      return open(url);
    },
    location: { assign: (url) => assigned.push(url) },
    addEventListener: (_type, listener) => listeners.add(listener),
    removeEventListener: (_type, listener) => listeners.delete(listener),
    setInterval: (fn, ms) => setInterval(fn, ms),
    clearInterval: (id) => clearInterval(id as ReturnType<typeof setInterval>),
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
  };
  const post = (event: ConnectMessageEvent) => {
    for (const listener of [...listeners]) listener(event);
  };
  return { win, opened, assigned, post, listeners };
}

const connected = { type: "airlock:connect", status: "connected", identifier: "user_1" };

describe("connect()", () => {
  it("opens the link with mode=popup and resolves with the popup's message from the link's origin", async () => {
    const popup = { closed: false, close: vi.fn() };
    const fake = fakeWindow(() => popup);
    const result = connectIn(fake.win, { url: LINK, popup: { width: 600, height: 800 } });
    expect(new URL(fake.opened[0]!.url).searchParams.get("mode")).toBe("popup");
    expect(fake.opened[0]!.features).toMatch(/^popup,width=600,height=800,/);
    // Ignored: another origin, another window, another message type.
    fake.post({ origin: "https://evil.example", source: popup, data: connected });
    fake.post({ origin: "https://airlock.example", source: {}, data: connected });
    fake.post({ origin: "https://airlock.example", source: popup, data: { type: "other" } });
    fake.post({
      origin: "https://airlock.example",
      source: popup,
      data: { ...connected, identifier: "real" },
    });
    await expect(result).resolves.toEqual({ status: "connected", identifier: "real" });
    expect(fake.listeners.size).toBe(0);
  });

  it("resolves an error with its code", async () => {
    const popup = { closed: false, close: vi.fn() };
    const fake = fakeWindow(() => popup);
    const result = connectIn(fake.win, { url: LINK });
    fake.post({
      origin: "https://airlock.example",
      source: popup,
      data: { type: "airlock:connect", status: "error", error: "access_denied", identifier: "u" },
    });
    await expect(result).resolves.toEqual({ status: "error", error: "access_denied", identifier: "u" });
  });

  it("resolves closed when the user closes the popup, and a timeout closes it", async () => {
    vi.useFakeTimers();
    try {
      const popup = { closed: false, close: vi.fn() };
      const fake = fakeWindow(() => popup);
      const result = connectIn(fake.win, { url: LINK });
      popup.closed = true;
      await vi.advanceTimersByTimeAsync(1000);
      await expect(result).resolves.toEqual({ status: "closed" });

      const slow = { closed: false, close: vi.fn() };
      const timedOut = connectIn(fakeWindow(() => slow).win, { url: LINK, timeoutMs: 5000 });
      await vi.advanceTimersByTimeAsync(5000);
      await expect(timedOut).resolves.toEqual({ status: "error", error: "timeout" });
      expect(slow.close).toHaveBeenCalled();
    } finally {
      vi.useRealTimers();
    }
  });

  it("falls back to a redirect to the link (no mode=popup) when the popup is blocked", () => {
    const fake = fakeWindow(() => null);
    void connectIn(fake.win, { url: LINK });
    expect(fake.assigned).toEqual([LINK]);
  });

  it("refuses a url that is not an absolute http(s) link, without repeating it", () => {
    const fake = fakeWindow(() => null);
    for (const url of ["/connect/secret_token_value", "javascript:alert(1)", ""]) {
      expect(() => connectIn(fake.win, { url })).toThrow(TypeError);
      expect(() => connectIn(fake.win, { url })).not.toThrow(/secret_token_value/);
    }
    expect(fake.opened).toEqual([]);
  });
});
