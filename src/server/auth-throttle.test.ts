import type { IncomingMessage } from "node:http";
import type { Context } from "hono";
import { describe, expect, it } from "vitest";
import { AuthThrottle, addressKey, clientAddress } from "./auth-throttle.js";

/** A Hono context as the node adapter builds it: the socket's peer and raw headers. */
function from(remoteAddress: string | undefined, headers: Record<string, string> = {}): Context {
  const incoming = {
    socket: { remoteAddress },
    rawHeaders: Object.entries(headers).flat(),
  } as unknown as IncomingMessage;
  return { env: remoteAddress === undefined ? undefined : { incoming } } as unknown as Context;
}

function throttle(limits = { perAddress: 3, global: 10, windowMs: 60_000, maxAddresses: 100 }) {
  let now = 1_000_000;
  const t = new AuthThrottle({ now: () => now, limits });
  return { t, advance: (ms: number) => (now += ms) };
}

describe("AuthThrottle", () => {
  it("blocks an address after its failures, for the time one failure takes to refill", () => {
    const { t, advance } = throttle();
    const attacker = from("203.0.113.7");
    expect(t.blockedFor(attacker)).toBe(0);
    expect(t.fail(attacker)).toBe(0);
    expect(t.fail(attacker)).toBe(0);
    // The third failure empties the bucket: 60 s / 3 failures = 20 s until the next try.
    expect(t.fail(attacker)).toBe(20);
    expect(t.blockedFor(attacker)).toBe(20);
    expect(t.blockedFor(from("203.0.113.8"))).toBe(0);
    advance(19_500);
    expect(t.blockedFor(attacker)).toBe(1);
    advance(500);
    expect(t.blockedFor(attacker)).toBe(0);
    // One failure's worth came back, not the whole budget.
    expect(t.fail(attacker)).toBe(20);
    // After the whole window the address is forgotten.
    advance(60_000);
    expect(t.blockedFor(attacker)).toBe(0);
    expect(t.fail(attacker)).toBe(0);
  });

  it("under global pressure refuses every address that failed in the window, not fresh ones", () => {
    const { t, advance } = throttle({ perAddress: 5, global: 6, windowMs: 60_000, maxAddresses: 100 });
    for (const host of [1, 2, 3]) {
      t.fail(from(`198.51.100.${host}`));
      t.fail(from(`198.51.100.${host}`));
    }
    // Six failures in all: each of the three is refused until the global bucket has one again.
    expect(t.blockedFor(from("198.51.100.1"))).toBe(10);
    expect(t.blockedFor(from("198.51.100.9"))).toBe(0);
    expect(t.fail(from("198.51.100.9"))).toBeGreaterThan(0);
    advance(10_000);
    expect(t.blockedFor(from("198.51.100.1"))).toBe(0);
  });

  it("keeps at most maxAddresses, forgetting the least recently failed", () => {
    const { t } = throttle({ perAddress: 1, global: 1000, windowMs: 60_000, maxAddresses: 2 });
    t.fail(from("192.0.2.1"));
    t.fail(from("192.0.2.2"));
    t.fail(from("192.0.2.3"));
    expect(t.blockedFor(from("192.0.2.1"))).toBe(0);
    expect(t.blockedFor(from("192.0.2.2"))).toBeGreaterThan(0);
    expect(t.blockedFor(from("192.0.2.3"))).toBeGreaterThan(0);
  });
});

describe("clientAddress", () => {
  it("uses the socket's peer and ignores X-Forwarded-For unless proxies are trusted", () => {
    const c = from("::ffff:10.0.0.5", { "X-Forwarded-For": "198.51.100.1, 203.0.113.9" });
    expect(clientAddress(c, 0)).toBe("10.0.0.5");
    expect(clientAddress(c, 1)).toBe("203.0.113.9");
    expect(clientAddress(c, 2)).toBe("198.51.100.1");
    expect(clientAddress(c, 5)).toBe("198.51.100.1");
    expect(clientAddress(from("10.0.0.5", { "x-forwarded-for": "not-an-ip" }), 1)).toBe("10.0.0.5");
    expect(clientAddress(from("10.0.0.5"), 1)).toBe("10.0.0.5");
    expect(clientAddress(from(undefined), 0)).toBe("in-process");
  });

  it("counts IPv6 addresses by their /64 and IPv4-mapped ones as IPv4", () => {
    expect(addressKey("::ffff:127.0.0.1")).toBe("127.0.0.1");
    expect(addressKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(addressKey("2001:0db8:0000:0000:ffff::2")).toBe("2001:db8:0:0::/64");
    expect(addressKey("2001:db8:0:1:aaaa:bbbb:cccc:dddd")).toBe("2001:db8:0:1::/64");
    expect(addressKey("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(addressKey("::1")).toBe("0:0:0:0::/64");
    expect(addressKey("64:ff9b::192.0.2.33")).toBe("64:ff9b:0:0::/64");
  });
});
