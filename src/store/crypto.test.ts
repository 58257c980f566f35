import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { AirlockError, isAirlockError } from "../shared/errors.js";
import { encryptionContext, generateKeyringValue, Keyring, parseEncryptionKeys } from "./crypto.js";

const key = () => randomBytes(32).toString("base64");
const context = encryptionContext("connections", "refresh_token", "user_123");

describe("Keyring", () => {
  it("round-trips under the first key, with a fresh IV every time", () => {
    const keyring = parseEncryptionKeys(`k2:${key()},k1:${key()}`);
    const a = keyring.encrypt("secret-token", context);
    const b = keyring.encrypt("secret-token", context);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^v1\.k2\.[\w-]{16}\.[\w-]+\.[\w-]{22}$/);
    expect(a).not.toContain("secret");
    expect(keyring.decrypt(a, context)).toBe("secret-token");
    expect(keyring.primaryKid).toBe("k2");
    expect(keyring.kids).toEqual(["k2", "k1"]);
  });

  it("decrypts with any listed key and knows what needs re-encryption", () => {
    const old = `old:${key()}`;
    const stored = parseEncryptionKeys(old).encrypt("t", context);
    const rotated = parseEncryptionKeys(`new:${key()},${old}`);
    expect(rotated.decrypt(stored, context)).toBe("t");
    expect(rotated.needsReencryption(stored)).toBe(true);
    expect(rotated.needsReencryption(rotated.encrypt("t", context))).toBe(false);
    const err = (() => {
      try {
        parseEncryptionKeys(`new:${key()}`).decrypt(stored, context);
      } catch (e) {
        return e;
      }
    })();
    expect(isAirlockError(err, "config_invalid")).toBe(true);
    expect((err as AirlockError).message).toContain('"old"');
  });

  it("binds the ciphertext to table, column and row", () => {
    const keyring = parseEncryptionKeys(generateKeyringValue());
    const stored = keyring.encrypt("t", context);
    for (const other of [
      encryptionContext("connections", "refresh_token", "user_124"),
      encryptionContext("connections", "access_token", "user_123"),
      encryptionContext("pending_authorizations", "refresh_token", "user_123"),
    ]) {
      expect(() => keyring.decrypt(stored, other)).toThrow(AirlockError);
    }
    const [v, kid, iv, ct, tag] = stored.split(".");
    const flipped = Buffer.from(ct!, "base64url");
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    expect(() =>
      keyring.decrypt([v, kid, iv, flipped.toString("base64url"), tag].join("."), context),
    ).toThrow(/could not be decrypted/);
    expect(() => keyring.decrypt("plaintext", context)).toThrow(/v1 format/);
  });

  it("rejects malformed AIRLOCK_ENCRYPTION_KEYS, naming the variable and the fix, never the key", () => {
    const short = randomBytes(16).toString("base64");
    const cases = [
      "",
      "   ",
      "nokey",
      `:${key()}`,
      `bad kid:${key()}`,
      `k1:${short}`,
      `k1:not*base64`,
      `k1:${key()},k1:${key()}`,
    ];
    for (const value of cases) {
      let err: unknown;
      try {
        parseEncryptionKeys(value);
      } catch (e) {
        err = e;
      }
      expect(isAirlockError(err, "config_invalid"), value).toBe(true);
      const { message, hint } = err as AirlockError;
      expect(message).toContain("AIRLOCK_ENCRYPTION_KEYS");
      expect(hint).toContain("openssl rand -base64 32");
      expect(message + hint).not.toContain(short);
    }
    expect(() => new Keyring([])).toThrow(/contains no key/);
  });

  it("accepts base64url keys and generates valid values", () => {
    const url = randomBytes(32).toString("base64url");
    expect(parseEncryptionKeys(`a_b-c:${url}`).primaryKid).toBe("a_b-c");
    const generated = generateKeyringValue("demo");
    expect(generated).toMatch(/^demo:[A-Za-z0-9+/]{43}=$/);
    expect(parseEncryptionKeys(generated).primaryKid).toBe("demo");
    expect(generateKeyringValue()).toMatch(/^k\d{8}:/);
  });
});
