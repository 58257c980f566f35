/**
 * Throttling of failed authentication (wrong bearer keys on `/v1/*`, wrong dashboard sign-ins): two
 * token buckets of failures, in memory and per instance (N instances allow N times the rate). One
 * bucket per client address (an IPv6 address counts by its /64), one for all addresses together.
 * An address whose bucket is empty is refused, right key or not, until a failure's worth has
 * refilled; while the shared bucket is empty, every address that failed within the window is
 * refused too, so an attack spread over many addresses gets about one guess per address. Requests
 * with the right key never spend anything, and pay one Map lookup while any address has failed.
 */
import { isIP } from "node:net";
import type { Context } from "hono";
import type { ServiceContext } from "./context.js";
import { incomingOf, requestHeader } from "./request-log.js";

export interface ThrottleLimits {
  /** Failures one address may make per window before it is refused (default 10). */
  perAddress: number;
  /** Failures all addresses together may make per window (default 100). */
  global: number;
  /** The time in which an empty bucket refills completely (default one minute). */
  windowMs: number;
  /** Addresses remembered at most; the least recently failed are forgotten first (default 10,000). */
  maxAddresses: number;
}

export const DEFAULT_THROTTLE_LIMITS: ThrottleLimits = {
  perAddress: 10,
  global: 100,
  windowMs: 60_000,
  maxAddresses: 10_000,
};

interface Bucket {
  tokens: number;
  at: number;
}

/** Counts failed authentications per client address and says how long each is blocked. */
export class AuthThrottle {
  readonly #limits: ThrottleLimits;
  readonly #now: () => number;
  readonly #trustProxyHops: number;
  readonly #addresses = new Map<string, Bucket>();
  #global: Bucket;

  constructor(
    options: { now?: () => number; trustProxyHops?: number; limits?: Partial<ThrottleLimits> } = {},
  ) {
    this.#limits = { ...DEFAULT_THROTTLE_LIMITS, ...options.limits };
    this.#now = options.now ?? Date.now;
    this.#trustProxyHops = options.trustProxyHops ?? 0;
    this.#global = { tokens: this.#limits.global, at: this.#now() };
  }

  /** The key the request is counted under (for logs). */
  addressOf(c: Context): string {
    return clientAddress(c, this.#trustProxyHops);
  }

  /** Seconds the request's address must wait before an attempt is checked at all; 0: go ahead. */
  blockedFor(c: Context): number {
    if (this.#addresses.size === 0) return 0;
    return this.#retryAfter(clientAddress(c, this.#trustProxyHops), this.#now());
  }

  /** Records a failed attempt; returns how long the address is refused from now on (0: not yet). */
  fail(c: Context): number {
    const address = clientAddress(c, this.#trustProxyHops);
    const now = this.#now();
    const { perAddress, global, maxAddresses } = this.#limits;
    const own = this.#level(this.#addresses.get(address), perAddress, now);
    // Deleted and set again: the Map's order stays "least recently failed first".
    this.#addresses.delete(address);
    this.#addresses.set(address, { tokens: Math.max(0, own - 1), at: now });
    if (this.#addresses.size > maxAddresses) {
      const oldest = this.#addresses.keys().next();
      if (!oldest.done) this.#addresses.delete(oldest.value);
    }
    this.#global = { tokens: Math.max(0, this.#level(this.#global, global, now) - 1), at: now };
    return this.#retryAfter(address, now);
  }

  #retryAfter(address: string, now: number): number {
    const bucket = this.#addresses.get(address);
    if (!bucket) return 0;
    const { perAddress, global, windowMs } = this.#limits;
    const own = this.#level(bucket, perAddress, now);
    if (own >= perAddress) {
      this.#addresses.delete(address);
      return 0;
    }
    const untilLevel = (level: number, capacity: number, target: number) =>
      ((target - level) * windowMs) / capacity;
    if (own < 1) return seconds(untilLevel(own, perAddress, 1));
    const shared = this.#level(this.#global, global, now);
    if (shared >= 1) return 0;
    return seconds(Math.min(untilLevel(shared, global, 1), untilLevel(own, perAddress, perAddress)));
  }

  #level(bucket: Bucket | undefined, capacity: number, now: number): number {
    if (!bucket) return capacity;
    const refilled = (Math.max(0, now - bucket.at) * capacity) / this.#limits.windowMs;
    return Math.min(capacity, bucket.tokens + refilled);
  }
}

function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

const throttles = new WeakMap<ServiceContext, AuthThrottle>();

/**
 * The one throttle of a service (shared by the bearer check and the dashboard sign-in), on the
 * service's clock, reading client addresses as `AIRLOCK_TRUST_PROXY` says.
 */
export function authThrottle(ctx: ServiceContext): AuthThrottle {
  let throttle = throttles.get(ctx);
  if (!throttle) {
    throttle = new AuthThrottle({
      now: () => ctx.now().getTime(),
      trustProxyHops: ctx.config.trustProxyHops,
    });
    throttles.set(ctx, throttle);
  }
  return throttle;
}

/**
 * The address a request is throttled by: the socket's peer; with `trustProxyHops` N > 0, the
 * address N entries from the right of X-Forwarded-For (what the outermost trusted proxy saw), when
 * there is one. In-process requests (no socket) share the key "in-process".
 */
export function clientAddress(c: Context, trustProxyHops: number): string {
  let address = incomingOf(c)?.socket.remoteAddress;
  if (trustProxyHops > 0) {
    const forwarded = (requestHeader(c, "x-forwarded-for") ?? "")
      .split(",")
      .map((entry) => entry.trim())
      .filter((entry) => entry.length > 0);
    const hop = forwarded[Math.max(0, forwarded.length - trustProxyHops)];
    if (hop !== undefined && isIP(hop) !== 0) address = hop;
  }
  return address === undefined ? "in-process" : addressKey(address);
}

/**
 * An address as a throttling key: IPv4 as is (also when IPv4-mapped), IPv6 by its /64 (one
 * subscriber's network), without a zone.
 */
export function addressKey(address: string): string {
  const plain = address.replace(/%.*$/, "");
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(plain);
  if (mapped?.[1]) return mapped[1];
  if (isIP(plain) !== 6) return plain;
  const [head = "", tail] = plain.split("::");
  const groups = (part: string) => (part === "" ? [] : part.split(":"));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail).flatMap((g) => (g.includes(".") ? ["0", "0"] : [g]));
  const all = [
    ...left,
    ...new Array<string>(Math.max(0, 8 - left.length - right.length)).fill("0"),
    ...right,
  ];
  return `${all
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(":")}::/64`;
}
