import { describe, expect, it } from "vitest";
import { parseCredentialsFast } from "./credentials-file.js";
import { credentialsSchema } from "./credentials-schema.js";

const file = {
  version: 1,
  profile: "default",
  clientId: "client",
  usesClientSecret: false,
  redirectUri: "http://localhost:4000/callback",
  oauthUrl: "https://airtable.com",
  apiUrl: "https://api.airtable.com",
  scopes: ["data.records:read"],
  accessToken: "at",
  refreshToken: "rt",
  tokenType: "Bearer",
  accessTokenExpiresAt: "2026-12-04T19:00:00.000Z",
  refreshTokenExpiresAt: "2027-02-02T18:00:00.000Z",
  obtainedAt: "2026-12-04T18:00:00.000Z",
  userId: "usr1",
  email: null,
  createdAt: "2026-12-04T18:00:00.000Z",
  updatedAt: "2026-12-04T18:00:00.000Z",
};

describe("parseCredentialsFast (the zod-free path of airlock token)", () => {
  it("gives what the schema gives for a file write() produced, key order included", () => {
    const extra = { ...file, unknown: 1 };
    expect(JSON.stringify(parseCredentialsFast(extra))).toBe(JSON.stringify(credentialsSchema.parse(extra)));
    const reauth = { ...file, reauthReason: "invalid_grant" };
    expect(parseCredentialsFast(reauth)).toEqual(credentialsSchema.parse(reauth));
  });

  it("leaves anything it is not sure of to the schema", () => {
    for (const damaged of [
      null,
      [],
      { ...file, version: 2 },
      { ...file, clientId: "" },
      { ...file, scopes: [1] },
      { ...file, obtainedAt: "2026-02-30T00:00:00.000Z" },
      { ...file, createdAt: "2026-12-04T18:00:00+01:00" },
      { ...file, email: 3 },
    ]) {
      expect(parseCredentialsFast(damaged)).toBeUndefined();
    }
    // The schema still accepts an offset date the fast path declined.
    expect(credentialsSchema.safeParse({ ...file, createdAt: "2026-12-04T18:00:00+01:00" }).success).toBe(
      true,
    );
  });
});
