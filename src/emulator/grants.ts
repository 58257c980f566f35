import { createHash, randomBytes, randomInt } from "node:crypto";
import type { EmulatorClock } from "./clock.js";
import { CODE_TTL_SECONDS, CONSENT_TTL_SECONDS, DEFAULT_CLIENT_ID } from "./config.js";

/** Which bases a grant reaches: a fixed set, or everything the user has now and later. */
export type BaseAccess = "all" | ReadonlySet<string>;

/** One user authorization of the integration (what the user can later remove). */
export interface Grant {
  readonly id: string;
  /** The integration the user authorized: its tokens refresh only with that client's credentials. */
  readonly clientId: string;
  readonly scopes: readonly string[];
  /** Which bases it reaches; the user may change that later (control API: POST /__emulator/grants/:id/bases). */
  bases: BaseAccess;
  revoked: boolean;
  /** Hashes of the tokens currently issued under this grant (rotated refresh tokens included). */
  readonly tokenHashes: Set<string>;
}

export interface AccessTokenRecord {
  readonly grant: Grant;
  readonly scopes: readonly string[];
  readonly expiresAt: number;
}

interface RefreshTokenRecord {
  readonly grant: Grant;
  readonly expiresAt: number;
  /** A rotated token stays known so that its reuse can be detected (and punished). */
  rotated: boolean;
}

/** An authorization request waiting for the user's Allow or Deny. */
export interface ConsentRequest {
  readonly id: string;
  /** The integration asking (its name is on the consent page, the code is issued to it). */
  readonly clientId: string;
  readonly redirectUri: string;
  readonly state: string;
  readonly codeChallenge: string;
  readonly codeChallengeMethod: "S256";
  readonly scopes: readonly string[];
  readonly expiresAt: number;
}

export interface AuthorizationCode {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly scopes: readonly string[];
  readonly bases: BaseAccess;
  readonly expiresAt: number;
}

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  scopes: readonly string[];
  /** Seconds. */
  expiresIn: number;
  /** Seconds. */
  refreshExpiresIn: number;
}

/**
 * A grant and its tokens as plain data, for the state file. Tokens appear only as the SHA-256
 * hashes the store keys them by, so the file never holds a usable token.
 */
export interface GrantSnapshot {
  id: string;
  /** Absent in files written before the emulator hosted several integrations: the file's client_id. */
  client_id?: string;
  scopes: string[];
  bases: "all" | string[];
  access_tokens: { sha256: string; scopes: string[]; expires_at: number }[];
  refresh_tokens: { sha256: string; expires_at: number; rotated: boolean }[];
}

export type RefreshOutcome =
  | { ok: true; tokens: IssuedTokens }
  | { ok: false; reason: "unknown" | "expired" | "reused" | "scope_not_granted" | "other_client" };

/** Tokens are stored by hash: O(1) lookup, and a heap dump does not hand them out. */
function hash(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}

/** Opaque strings of varying length, shaped loosely like Airtable's (`oaa….v1.…`). */
function opaqueToken(): string {
  return `oaa${randomBytes(10).toString("base64url")}.v1.${randomBytes(randomInt(24, 72)).toString("base64url")}`;
}

/**
 * All OAuth state of the emulator: pending consents, authorization codes, grants and their tokens.
 * Every lookup is a Map access by (hashed) key, so a flood of API calls stays cheap.
 */
export class GrantStore {
  readonly #clock: EmulatorClock;
  readonly #ttl: { accessTokenTtl: number; refreshTokenTtl: number };
  readonly #consents = new Map<string, ConsentRequest>();
  readonly #codes = new Map<string, AuthorizationCode>();
  readonly #grants = new Set<Grant>();
  readonly #access = new Map<string, AccessTokenRecord>();
  readonly #refresh = new Map<string, RefreshTokenRecord>();

  readonly #isEnabled: (scope: string, clientId: string) => boolean;
  readonly #onChange: () => void;

  /**
   * @param isEnabled whether the integration (by client id) still has a scope enabled (tokens never
   *   carry a disabled one).
   * @param onChange called after every change to grants or tokens (not codes or consents, which are
   *   short-lived): the state file saves then.
   */
  constructor(
    clock: EmulatorClock,
    ttl: { accessTokenTtl: number; refreshTokenTtl: number },
    isEnabled: (scope: string, clientId: string) => boolean = () => true,
    onChange: () => void = () => {},
  ) {
    this.#clock = clock;
    this.#ttl = ttl;
    this.#isEnabled = isEnabled;
    this.#onChange = onChange;
  }

  /**
   * The scopes a token really has now: those it was issued with that are still enabled.
   */
  effectiveScopes(access: AccessTokenRecord): string[] {
    return access.scopes.filter((scope) => this.#isEnabled(scope, access.grant.clientId));
  }

  /**
   * Remembers a validated authorization request until the user answers the consent page.
   */
  createConsent(request: Omit<ConsentRequest, "id" | "expiresAt">): ConsentRequest {
    const consent = {
      ...request,
      id: randomBytes(18).toString("base64url"),
      expiresAt: this.#clock.now() + CONSENT_TTL_SECONDS * 1000,
    };
    this.#consents.set(consent.id, consent);
    return consent;
  }

  /**
   * A pending consent, or undefined when unknown or expired (expired ones are dropped).
   */
  getConsent(id: string): ConsentRequest | undefined {
    const consent = this.#consents.get(id);
    if (consent && consent.expiresAt <= this.#clock.now()) {
      this.#consents.delete(id);
      return undefined;
    }
    return consent;
  }

  /**
   * Ends a consent (answered); a second answer to the same page is refused.
   */
  deleteConsent(id: string): void {
    this.#consents.delete(id);
  }

  /**
   * Issues a one-time authorization code valid for 10 minutes.
   */
  issueCode(details: Omit<AuthorizationCode, "expiresAt">): string {
    const code = randomBytes(randomInt(24, 40)).toString("base64url");
    this.#codes.set(hash(code), { ...details, expiresAt: this.#clock.now() + CODE_TTL_SECONDS * 1000 });
    return code;
  }

  /**
   * Looks a code up AND consumes it: a code is single-use even when the exchange then fails.
   * Returns `"expired"` for a known code past its 10 minutes.
   */
  takeCode(code: string): AuthorizationCode | "expired" | undefined {
    const key = hash(code);
    const found = this.#codes.get(key);
    if (!found) return undefined;
    this.#codes.delete(key);
    return found.expiresAt <= this.#clock.now() ? "expired" : found;
  }

  /**
   * Records the user's authorization of the integration `clientId`.
   *
   * @example
   * const grant = grants.createGrant(["data.records:read"], "all", "app-b");
   */
  createGrant(scopes: readonly string[], bases: BaseAccess, clientId: string = DEFAULT_CLIENT_ID): Grant {
    const grant: Grant = {
      id: randomBytes(9).toString("base64url"),
      clientId,
      scopes: [...scopes],
      bases,
      revoked: false,
      tokenHashes: new Set(),
    };
    this.#grants.add(grant);
    this.#onChange();
    return grant;
  }

  /**
   * Issues a fresh access/refresh pair under `grant`, invalidating its previous access tokens.
   */
  issueTokens(grant: Grant, requested: readonly string[]): IssuedTokens {
    const scopes = requested.filter((scope) => this.#isEnabled(scope, grant.clientId));
    for (const key of grant.tokenHashes) {
      if (this.#access.delete(key)) grant.tokenHashes.delete(key);
    }
    const now = this.#clock.now();
    const accessToken = opaqueToken();
    const refreshToken = opaqueToken();
    const accessKey = hash(accessToken);
    const refreshKey = hash(refreshToken);
    this.#access.set(accessKey, {
      grant,
      scopes: [...scopes],
      expiresAt: now + this.#ttl.accessTokenTtl * 1000,
    });
    this.#refresh.set(refreshKey, {
      grant,
      expiresAt: now + this.#ttl.refreshTokenTtl * 1000,
      rotated: false,
    });
    grant.tokenHashes.add(accessKey);
    grant.tokenHashes.add(refreshKey);
    this.#onChange();
    return {
      accessToken,
      refreshToken,
      scopes: [...scopes],
      expiresIn: this.#ttl.accessTokenTtl,
      refreshExpiresIn: this.#ttl.refreshTokenTtl,
    };
  }

  /**
   * The live access token record, or undefined when unknown, rotated away, revoked or expired.
   */
  findAccessToken(token: string): AccessTokenRecord | undefined {
    const record = this.#access.get(hash(token));
    if (!record || record.grant.revoked || record.expiresAt <= this.#clock.now()) return undefined;
    return record;
  }

  /**
   * Rotates a refresh token. Reusing an already rotated token revokes the whole grant; an expired
   * token (unused for the refresh window) is dead. `scopes`, when given, must be a subset of the grant.
   * `clientId`, when given, must be the grant's integration: another client's attempt changes nothing.
   *
   * @example
   * grants.refresh(token, undefined, "app-b"); // { ok: false, reason: "other_client" } for app-a's token
   */
  refresh(refreshToken: string, scopes?: readonly string[], clientId?: string): RefreshOutcome {
    const record = this.#refresh.get(hash(refreshToken));
    if (!record || record.grant.revoked) return { ok: false, reason: "unknown" };
    if (clientId !== undefined && record.grant.clientId !== clientId)
      return { ok: false, reason: "other_client" };
    if (record.rotated) {
      this.revokeGrant(record.grant);
      return { ok: false, reason: "reused" };
    }
    if (record.expiresAt <= this.#clock.now()) {
      this.revokeGrant(record.grant);
      return { ok: false, reason: "expired" };
    }
    const granted = new Set(record.grant.scopes);
    if (scopes && !scopes.every((s) => granted.has(s))) return { ok: false, reason: "scope_not_granted" };
    record.rotated = true;
    return { ok: true, tokens: this.issueTokens(record.grant, scopes ?? record.grant.scopes) };
  }

  /**
   * Revokes a grant and forgets every token issued under it.
   */
  revokeGrant(grant: Grant): void {
    grant.revoked = true;
    for (const key of grant.tokenHashes) {
      this.#access.delete(key);
      this.#refresh.delete(key);
    }
    grant.tokenHashes.clear();
    this.#grants.delete(grant);
    this.#onChange();
  }

  /**
   * Revokes every grant: what happens when the user removes the integration from their account.
   * Returns how many grants were revoked.
   */
  revokeAll(): number {
    const count = this.#grants.size;
    for (const grant of [...this.#grants]) this.revokeGrant(grant);
    return count;
  }

  /** The live grants, oldest first. */
  listGrants(): Grant[] {
    return [...this.#grants];
  }

  /** A live grant by id. */
  findGrant(id: string): Grant | undefined {
    return [...this.#grants].find((grant) => grant.id === id);
  }

  /** The live grant a current access token or refresh token (rotated ones included) belongs to. */
  grantOfToken(token: string): Grant | undefined {
    const key = hash(token);
    const grant = this.#access.get(key)?.grant ?? this.#refresh.get(key)?.grant;
    return grant && !grant.revoked ? grant : undefined;
  }

  /**
   * Changes which bases a grant reaches (the user edits the integration's access); its tokens see
   * the change at once.
   */
  setGrantBases(grant: Grant, bases: BaseAccess): void {
    grant.bases = bases;
    this.#onChange();
  }

  /** Number of live grants. */
  get grantCount(): number {
    return this.#grants.size;
  }

  /**
   * Forgets everything (consents, codes, grants, tokens).
   */
  reset(): void {
    for (const grant of this.#grants) grant.revoked = true;
    this.#consents.clear();
    this.#codes.clear();
    this.#grants.clear();
    this.#access.clear();
    this.#refresh.clear();
    this.#onChange();
  }

  /**
   * Every live grant with its tokens (by hash), for the state file. Expired access tokens are left
   * out: the clock never goes back, so they can never be accepted again.
   */
  snapshot(): GrantSnapshot[] {
    const now = this.#clock.now();
    return [...this.#grants].map((grant) => {
      const snapshot: GrantSnapshot = {
        id: grant.id,
        client_id: grant.clientId,
        scopes: [...grant.scopes],
        bases: grant.bases === "all" ? "all" : [...grant.bases],
        access_tokens: [],
        refresh_tokens: [],
      };
      for (const key of grant.tokenHashes) {
        const access = this.#access.get(key);
        if (access && access.expiresAt > now) {
          snapshot.access_tokens.push({
            sha256: key,
            scopes: [...access.scopes],
            expires_at: access.expiresAt,
          });
        }
        const refresh = this.#refresh.get(key);
        if (refresh) {
          snapshot.refresh_tokens.push({
            sha256: key,
            expires_at: refresh.expiresAt,
            rotated: refresh.rotated,
          });
        }
      }
      return snapshot;
    });
  }

  /**
   * Adds grants and tokens saved by `snapshot()` (at start, before any request is served); a grant
   * saved without a client id belongs to `fallbackClientId` (older files held one integration).
   *
   * @example
   * grants.restore(saved.grants, saved.client_id);
   */
  restore(snapshots: readonly GrantSnapshot[], fallbackClientId: string = DEFAULT_CLIENT_ID): void {
    for (const saved of snapshots) {
      const grant: Grant = {
        id: saved.id,
        clientId: saved.client_id ?? fallbackClientId,
        scopes: [...saved.scopes],
        bases: saved.bases === "all" ? "all" : new Set(saved.bases),
        revoked: false,
        tokenHashes: new Set(),
      };
      this.#grants.add(grant);
      for (const token of saved.access_tokens) {
        this.#access.set(token.sha256, { grant, scopes: [...token.scopes], expiresAt: token.expires_at });
        grant.tokenHashes.add(token.sha256);
      }
      for (const token of saved.refresh_tokens) {
        this.#refresh.set(token.sha256, { grant, expiresAt: token.expires_at, rotated: token.rotated });
        grant.tokenHashes.add(token.sha256);
      }
    }
  }
}
