import { describe, expect, it } from "vitest";
import { SESSION_TTL_MS, sessionCodec } from "./session.js";

const now = new Date("2026-01-01T00:00:00Z");
const codec = sessionCodec({ secretKey: "s3cret-key-0123456789", secure: false });

describe("dashboard sessions", () => {
  it("reads back a session it issued, with its kind and expiry", () => {
    const { session, cookie } = codec.issue("user", now);
    const read = codec.read(cookie, now);
    expect(read).toEqual(session);
    expect(read?.expiresAt.getTime()).toBe(now.getTime() + SESSION_TTL_MS.user);
  });

  it("rejects a tampered, re-kinded, foreign or expired cookie", () => {
    const { cookie } = codec.issue("anon", now);
    const [nonce, expiry, , epoch, signature] = cookie.split(".");
    expect(codec.read(`${nonce}.${expiry}.user.${epoch}.${signature}`, now)).toBeNull();
    expect(codec.read(`${nonce}.${Number(expiry) + 1}.anon.${epoch}.${signature}`, now)).toBeNull();
    expect(codec.read(`${nonce}.${expiry}.anon.${Number(epoch) + 1}.${signature}`, now)).toBeNull();
    // The cookie format before session epochs (four parts) is not accepted.
    expect(codec.read(`${nonce}.${expiry}.anon.${signature}`, now)).toBeNull();
    expect(codec.read(cookie.slice(0, -1), now)).toBeNull();
    expect(codec.read("garbage", now)).toBeNull();
    expect(codec.read(undefined, now)).toBeNull();
    const other = sessionCodec({ secretKey: "another-key-0123456789", secure: false });
    expect(other.read(cookie, now)).toBeNull();
    expect(codec.read(cookie, new Date(now.getTime() + SESSION_TTL_MS.anon))).toBeNull();
  });

  it("refuses signed-in sessions of an older epoch once a newer one is observed", () => {
    const epochs = sessionCodec({ secretKey: "s3cret-key-0123456789", secure: false });
    const before = epochs.issue("user", now);
    const anon = epochs.issue("anon", now);
    expect(before.session.epoch).toBe(0);
    epochs.observeEpoch(3);
    expect(epochs.read(before.cookie, now)).toBeNull();
    // The sign-in form's anonymous session survives (a sign-out elsewhere must not break it).
    expect(epochs.read(anon.cookie, now)).not.toBeNull();
    const after = epochs.issue("user", now);
    expect(after.session.epoch).toBe(3);
    expect(epochs.read(after.cookie, now)).toEqual(after.session);
    // Epochs only grow: an older observation (a slow request) does not revive old sessions.
    epochs.observeEpoch(1);
    expect(epochs.read(before.cookie, now)).toBeNull();
    expect(epochs.read(after.cookie, now)).not.toBeNull();
    // Another codec on the same key (another instance) refuses it as soon as it has seen the epoch.
    const other = sessionCodec({ secretKey: "s3cret-key-0123456789", secure: false });
    expect(other.read(before.cookie, now)).not.toBeNull();
    other.observeEpoch(3);
    expect(other.read(before.cookie, now)).toBeNull();
  });

  it("binds the CSRF token to one session", () => {
    const a = codec.issue("user", now).session;
    const b = codec.issue("user", now).session;
    expect(codec.checkCsrf(a, codec.csrfToken(a))).toBe(true);
    expect(codec.checkCsrf(a, codec.csrfToken(b))).toBe(false);
    expect(codec.checkCsrf(a, undefined)).toBe(false);
    expect(codec.checkCsrf(a, "")).toBe(false);
    // An anonymous session's token never passes for a signed-in session with the same nonce.
    expect(codec.checkCsrf({ ...a, kind: "anon" }, codec.csrfToken(a))).toBe(false);
  });

  it("uses a __Host- cookie on https", () => {
    expect(sessionCodec({ secretKey: "s3cret-key-0123456789", secure: true }).cookieName).toBe(
      "__Host-airlock_session",
    );
    expect(codec.cookieName).toBe("airlock_session");
  });
});
