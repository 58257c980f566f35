/**
 * Encryption at rest for token and verifier columns: AES-256-GCM under a key id, with associated
 * data that binds each ciphertext to its table, column and row. A ciphertext copied to another row
 * or column fails to decrypt instead of handing one user's token to another.
 *
 * Wire format (all parts base64url): `v1.<kid>.<iv>.<ciphertext>.<tag>`.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { AirlockError } from "../shared/errors.js";

const VERSION = "v1";
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KID_PATTERN = /^[A-Za-z0-9_-]+$/;
const ENV_NAME = "AIRLOCK_ENCRYPTION_KEYS";
const GENERATE_HINT =
  "Set AIRLOCK_ENCRYPTION_KEYS to `kid:base64key[,kid:base64key…]`; generate a key with " +
  "`openssl rand -base64 32`, e.g. AIRLOCK_ENCRYPTION_KEYS=k1:$(openssl rand -base64 32).";

/**
 * Where a ciphertext lives. It becomes the GCM associated data, so the same plaintext encrypted for
 * another table, column or row is a different, non-interchangeable ciphertext.
 *
 * @example
 * const context = encryptionContext("connections", "refresh_token", "user_123");
 * // "connections.refresh_token:user_123"
 */
export function encryptionContext(table: string, column: string, rowKey: string): string {
  return `${table}.${column}:${rowKey}`;
}

/**
 * A set of AES-256-GCM keys by key id. The first key encrypts; every key decrypts, so keys can be
 * rotated without downtime (add the new key first, re-encrypt, then drop the old one).
 *
 * @example
 * const keyring = parseEncryptionKeys(process.env.AIRLOCK_ENCRYPTION_KEYS ?? "");
 * const stored = keyring.encrypt("secret", "connections.refresh_token:user_123");
 * keyring.decrypt(stored, "connections.refresh_token:user_123"); // "secret"
 */
export class Keyring {
  readonly #keys: ReadonlyMap<string, Buffer>;
  readonly #primaryKid: string;

  constructor(keys: ReadonlyArray<{ kid: string; key: Uint8Array }>) {
    const first = keys[0];
    if (!first) throw configError("contains no key.");
    const map = new Map<string, Buffer>();
    for (const [index, { kid, key }] of keys.entries()) {
      if (!KID_PATTERN.test(kid)) {
        throw configError(`entry ${index + 1} has an invalid key id (use letters, digits, "_" and "-").`);
      }
      if (map.has(kid)) throw configError(`lists key id "${kid}" twice; key ids must be unique.`);
      if (key.byteLength !== KEY_BYTES) {
        throw configError(
          `key "${kid}" is ${key.byteLength} bytes after base64 decoding; AES-256 needs exactly ${KEY_BYTES}.`,
        );
      }
      map.set(kid, Buffer.from(key));
    }
    this.#keys = map;
    this.#primaryKid = first.kid;
  }

  /** The key id new ciphertexts are written under. */
  get primaryKid(): string {
    return this.#primaryKid;
  }

  /** Every key id this keyring can decrypt, primary first. */
  get kids(): string[] {
    return [...this.#keys.keys()];
  }

  /**
   * Encrypts `plaintext` under the primary key, bound to `context` (see {@link encryptionContext}).
   *
   * @example
   * const stored = keyring.encrypt(verifier, encryptionContext("pending_authorizations", "code_verifier", stateHash));
   */
  encrypt(plaintext: string, context: string): string {
    const kid = this.#primaryKid;
    const key = this.#keys.get(kid)!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv("aes-256-gcm", key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(associatedData(kid, context));
    const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [VERSION, kid, b64(iv), b64(ciphertext), b64(tag)].join(".");
  }

  /**
   * Decrypts a value made by {@link Keyring.encrypt} with the same `context`. Throws
   * `config_invalid` when the key id is unknown, and when the key is wrong or the value was
   * moved to another row/column or tampered with; the message never contains key material.
   *
   * @example
   * const refreshToken = keyring.decrypt(row.refresh_token_enc, "connections.refresh_token:user_123");
   */
  decrypt(stored: string, context: string): string {
    const parts = stored.split(".");
    const [version, kid, iv, ciphertext, tag] = parts;
    if (parts.length !== 5 || version !== VERSION || !kid || iv === undefined || !ciphertext || !tag) {
      throw new AirlockError("internal", `The encrypted value of ${context} is not in the v1 format.`, {
        hint: "The database row was written by something other than Airlock, or is damaged.",
      });
    }
    const key = this.#keys.get(kid);
    if (!key) {
      throw new AirlockError(
        "config_invalid",
        `${context} is encrypted under key id "${kid}", which ${ENV_NAME} does not list.`,
        {
          hint: `Add the key "${kid}" back to ${ENV_NAME} (after the current first key), then run \`airlock rotate-keys\`.`,
        },
      );
    }
    try {
      const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"), {
        authTagLength: TAG_BYTES,
      });
      decipher.setAAD(associatedData(kid, context));
      decipher.setAuthTag(Buffer.from(tag, "base64url"));
      return Buffer.concat([
        decipher.update(Buffer.from(ciphertext, "base64url")),
        decipher.final(),
      ]).toString("utf8");
    } catch (cause) {
      throw new AirlockError(
        "config_invalid",
        `${context} could not be decrypted with key "${kid}": wrong key, or the value was copied from another row or column.`,
        {
          hint: `Check that ${ENV_NAME} holds the same key material under "${kid}" as when it was written.`,
          cause,
        },
      );
    }
  }

  /** True when `stored` was encrypted under another key than the primary one. */
  needsReencryption(stored: string): boolean {
    return stored.split(".", 2)[1] !== this.#primaryKid;
  }
}

/**
 * Parses `AIRLOCK_ENCRYPTION_KEYS` (`kid:base64key,…`). Throws `AirlockError("config_invalid")`
 * naming the variable and how to generate a key; never echoes key material.
 *
 * @example
 * const keyring = parseEncryptionKeys("k2:" + newKeyBase64 + ",k1:" + oldKeyBase64);
 */
export function parseEncryptionKeys(value: string | undefined): Keyring {
  if (value === undefined || value.trim() === "") throw configError("is empty.");
  const keys = value.split(",").map((entry, index) => {
    const trimmed = entry.trim();
    const colon = trimmed.indexOf(":");
    if (colon <= 0) throw configError(`entry ${index + 1} is not of the form kid:base64key.`);
    const kid = trimmed.slice(0, colon);
    const encoded = trimmed.slice(colon + 1).trim();
    if (!KID_PATTERN.test(kid)) {
      throw configError(`entry ${index + 1} has an invalid key id (use letters, digits, "_" and "-").`);
    }
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(encoded)) {
      throw configError(`the key of "${kid}" is not base64.`);
    }
    return {
      kid,
      key: Buffer.from(encoded, encoded.includes("-") || encoded.includes("_") ? "base64url" : "base64"),
    };
  });
  return new Keyring(keys);
}

/**
 * A fresh `AIRLOCK_ENCRYPTION_KEYS` value with one random key (demo mode, first start).
 *
 * @example
 * process.env.AIRLOCK_ENCRYPTION_KEYS ??= generateKeyringValue();
 */
export function generateKeyringValue(
  kid = `k${new Date().toISOString().slice(0, 10).replaceAll("-", "")}`,
): string {
  return `${kid}:${randomBytes(KEY_BYTES).toString("base64")}`;
}

function associatedData(kid: string, context: string): Buffer {
  return Buffer.from(`${VERSION}.${kid}|${context}`, "utf8");
}

function b64(bytes: Buffer): string {
  return bytes.toString("base64url");
}

function configError(problem: string): AirlockError {
  return new AirlockError("config_invalid", `${ENV_NAME} ${problem}`, { hint: GENERATE_HINT });
}
