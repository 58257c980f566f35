/**
 * Several Airtable OAuth integrations in one deployment (issue 12): `AIRTABLE_*` configures the
 * `default` one, as it always did; `AIRLOCK_INTEGRATIONS_FILE` names a JSON file with more, e.g.
 * a read-only and a read-write integration, or one per white-labelled customer. Each has its own
 * client id, secret and scopes; all share this service's OAuth callback, the Airtable URLs and the
 * store (connections are keyed by integration and identifier).
 */
import { readFileSync } from "node:fs";
import { z } from "@hono/zod-openapi";
import { parseScopes } from "../airtable/scopes.js";
import type { AirtableOAuthConfig } from "../airtable/types.js";
import { AirlockError } from "../shared/errors.js";
import { DEFAULT_INTEGRATION } from "../store/index.js";

/** One integration the service acts for. */
export interface IntegrationConfig {
  /** `default` for the `AIRTABLE_*` one; else the file's `id` (routes: `/v1/integrations/:id/…`). */
  id: string;
  /** What the dashboard shows. */
  name: string;
  airtable: AirtableOAuthConfig;
}

/** Lower-case letters, digits, `-` and `_`, up to 63 characters: safe in a path and a log line. */
export const INTEGRATION_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

const EXAMPLE = `{"integrations": [{"id": "readonly", "name": "Read-only", "client_id": "…", "client_secret_env": "READONLY_CLIENT_SECRET", "scopes": "data.records:read schema.bases:read"}]}`;

const entrySchema = z
  .object({
    id: z.string().regex(INTEGRATION_ID_PATTERN, "must be lower-case letters, digits, - or _ (at most 63)"),
    name: z.string().min(1).max(100).optional(),
    client_id: z.string().min(1).regex(/^\S+$/, "must not contain spaces"),
    /** The secret itself; `client_secret_env` (the name of a variable holding it) keeps it out of the file. */
    client_secret: z.string().min(1).optional(),
    client_secret_env: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be a variable name")
      .optional(),
    scopes: z.string().min(1),
  })
  .strict();

const fileSchema = z.object({ integrations: z.array(entrySchema).max(100) }).strict();

function invalid(message: string, hint: string = `The file holds JSON like ${EXAMPLE}`): AirlockError {
  return new AirlockError("config_invalid", `AIRLOCK_INTEGRATIONS_FILE: ${message}`, { hint });
}

/**
 * The integrations `AIRLOCK_INTEGRATIONS_FILE` adds to `defaults` (the `AIRTABLE_*` one, whose
 * redirect URI and Airtable URLs they share); none when the variable is unset. Every problem is
 * `config_invalid` naming the entry and field.
 *
 * @example
 * const extra = readIntegrationsFile(process.env, config.airtable);
 * extra.map((i) => i.id); // ["readonly"]
 */
export function readIntegrationsFile(
  env: NodeJS.ProcessEnv,
  defaults: AirtableOAuthConfig,
): IntegrationConfig[] {
  const path = env.AIRLOCK_INTEGRATIONS_FILE?.trim();
  if (!path) return [];
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    throw invalid(
      `cannot read ${path} (${(cause as NodeJS.ErrnoException).code ?? "error"}).`,
      "Point AIRLOCK_INTEGRATIONS_FILE at a readable JSON file, or unset it.",
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw invalid(`${path} is not valid JSON.`);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join(".") : "the top level";
    throw invalid(`${where}: ${issue?.message ?? "invalid"}.`);
  }
  const seenIds = new Set<string>([DEFAULT_INTEGRATION]);
  const seenClients = new Set<string>([defaults.clientId]);
  return parsed.data.integrations.map((entry, index) => {
    const at = `integrations.${index} (${entry.id})`;
    if (seenIds.has(entry.id)) {
      throw invalid(
        `${at}: the id "${entry.id}" is ${entry.id === DEFAULT_INTEGRATION ? "reserved for the AIRTABLE_* integration" : "used twice"}.`,
        "Give each integration its own id.",
      );
    }
    if (seenClients.has(entry.client_id)) {
      throw invalid(
        `${at}: client_id is also another integration's.`,
        "Each Airtable integration has its own client id (https://airtable.com/create/oauth).",
      );
    }
    seenIds.add(entry.id);
    seenClients.add(entry.client_id);
    return {
      id: entry.id,
      name: entry.name ?? entry.id,
      airtable: {
        ...defaults,
        clientId: entry.client_id,
        clientSecret: secretOf(entry, at, env),
        scopes: scopesOf(entry, at),
      },
    };
  });
}

function secretOf(
  entry: z.infer<typeof entrySchema>,
  at: string,
  env: NodeJS.ProcessEnv,
): string | undefined {
  if (entry.client_secret !== undefined && entry.client_secret_env !== undefined) {
    throw invalid(
      `${at}: both client_secret and client_secret_env are set.`,
      "Keep one (client_secret_env keeps the secret out of the file).",
    );
  }
  if (entry.client_secret_env === undefined) return entry.client_secret;
  const value = env[entry.client_secret_env]?.trim();
  if (!value) {
    throw invalid(
      `${at}: client_secret_env names ${entry.client_secret_env}, which is not set.`,
      `Set ${entry.client_secret_env} to the integration's client secret, or remove client_secret_env for a public client.`,
    );
  }
  return value;
}

function scopesOf(entry: z.infer<typeof entrySchema>, at: string): string[] {
  try {
    return parseScopes(entry.scopes);
  } catch (error) {
    const cause = error instanceof AirlockError ? error : null;
    throw invalid(
      `${at}: scopes: ${cause?.message ?? "invalid"}`,
      cause?.hint ?? "List Airtable scopes, space-separated.",
    );
  }
}
