/**
 * The zod schema of a CLI credentials file. Loaded lazily by credentials-file.ts only when its fast
 * check is unsure, so `airlock token` on a healthy file never loads zod.
 */
import { z } from "zod";

const isoDate = z.iso.datetime({ offset: true });

export const credentialsSchema = z.object({
  version: z.literal(1),
  profile: z.string(),
  clientId: z.string().min(1),
  usesClientSecret: z.boolean(),
  redirectUri: z.string().min(1),
  oauthUrl: z.string().min(1),
  apiUrl: z.string().min(1),
  scopes: z.array(z.string()),
  accessToken: z.string().min(1),
  refreshToken: z.string().min(1),
  tokenType: z.literal("Bearer"),
  accessTokenExpiresAt: isoDate,
  refreshTokenExpiresAt: isoDate,
  obtainedAt: isoDate,
  userId: z.string().nullable(),
  email: z.string().nullable(),
  createdAt: isoDate,
  updatedAt: isoDate,
  /**
   * Set when Airtable rejected the refresh token (invalid_grant): later commands fail at once with
   * "run `airlock login` again" instead of sending a dead token again (repeated invalid refreshes
   * can get an integration revoked).
   */
  reauthReason: z.string().nullable().default(null),
});

/** One profile's stored credentials, as written to `credentials-<profile>.json`. Dates are ISO strings. */
export type StoredCredentials = z.output<typeof credentialsSchema>;
