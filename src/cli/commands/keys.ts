/**
 * `airlock keys create|list|revoke`: the service's named API keys (issue 12), managed over HTTP
 * on a running `airlock serve` with an admin key (AIRLOCK_SECRET_KEY or an `admin` API key).
 */
import { AirlockApiError, AirlockClient, type ApiKey, type ApiKeyScope } from "@airlock/client";
import { AirlockError } from "../../shared/errors.js";
import { parseCommandArgs, usageError } from "../args.js";
import type { CommandContext } from "../context.js";
import { ExitCode } from "../exit-codes.js";
import type { Output } from "../output.js";

export const KEYS_HELP = `Usage: airlock keys <create|list|revoke> [flags]

Named API keys for a running Airlock service (besides AIRLOCK_SECRET_KEY), each with a scope:
  admin     everything under /v1, like AIRLOCK_SECRET_KEY
  connect   only POST /v1/connect-sessions
  proxy     only /v1/proxy/* and POST /v1/connections/:identifier/access-token

  airlock keys create --name N --scope S   prints the new key on stdout, once (it is stored hashed)
  airlock keys list [--json]               id, name, scope, created, last used, revoked
  airlock keys revoke ID                   refused at once by every instance

Rotate a key without downtime: create the new key, switch the clients to it, then revoke the old.

Flags:
  --url URL    the service (default http://localhost:4000)
  --key KEY    an admin key (default $AIRLOCK_SECRET_KEY)
  --json       machine-readable output (create, list)
`;

const FLAGS = {
  name: { type: "string" },
  scope: { type: "string" },
  url: { type: "string" },
  key: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

const SCOPES: readonly ApiKeyScope[] = ["admin", "connect", "proxy"];
const DEFAULT_URL = "http://localhost:4000";

/**
 * Runs `airlock keys`.
 *
 * @example
 * await keysCommand(["create", "--name", "workers", "--scope", "proxy"], context);
 */
export async function keysCommand(argv: string[], context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommandArgs("keys", argv, FLAGS, 2);
  const { output } = context;
  const [action, id] = positionals;
  if (values.help || action === undefined) {
    (values.help ? output.out : output.err)(KEYS_HELP);
    return values.help ? ExitCode.ok : ExitCode.usage;
  }
  if (action !== "revoke" && id !== undefined) throw usageError("keys", `Unexpected argument "${id}".`);
  const client = clientFor(values.url ?? DEFAULT_URL, values.key ?? context.env.AIRLOCK_SECRET_KEY);
  try {
    if (action === "create") return await create(client, output, values);
    if (action === "list") return await list(client, output, values.json === true);
    if (action === "revoke") return await revoke(client, output, id);
  } catch (error) {
    throw withFix(error, values.url ?? DEFAULT_URL);
  }
  throw usageError("keys", `Unknown action "${action}": use create, list or revoke.`);
}

function clientFor(url: string, key: string | undefined): AirlockClient {
  if (!key) {
    throw new AirlockError("config_invalid", "No admin key to manage API keys with.", {
      hint: "Set AIRLOCK_SECRET_KEY to the service's secret key, or pass --key with an admin API key.",
    });
  }
  return new AirlockClient({ baseUrl: url, secretKey: key });
}

async function create(
  client: AirlockClient,
  output: Output,
  values: { name?: string; scope?: string; json?: boolean },
): Promise<number> {
  if (!values.name) throw usageError("keys", "keys create needs --name N (1 to 100 printable characters).");
  if (!values.scope || !(SCOPES as readonly string[]).includes(values.scope)) {
    throw usageError(
      "keys",
      `keys create needs --scope ${SCOPES.join("|")}${values.scope ? `, got "${values.scope}"` : ""}.`,
    );
  }
  const created = await client.createApiKey({ name: values.name, scope: values.scope as ApiKeyScope });
  if (values.json) {
    output.out(
      JSON.stringify({
        id: created.id,
        name: created.name,
        scope: created.scope,
        key: created.key,
        created_at: created.createdAt.toISOString(),
      }),
    );
  } else {
    output.out(created.key);
  }
  output.err(`Created API key ${created.id} "${created.name}" (scope ${created.scope}).`);
  output.err(
    "This is the only time the key is shown: store it now. Revoke it with `airlock keys revoke ID`.",
  );
  return ExitCode.ok;
}

async function list(client: AirlockClient, output: Output, json: boolean): Promise<number> {
  const keys = await client.listApiKeys();
  if (json) {
    output.out(JSON.stringify({ api_keys: keys.map(toJson) }));
    return ExitCode.ok;
  }
  if (keys.length === 0) {
    output.err(
      "No API keys yet: create one with `airlock keys create --name N --scope admin|connect|proxy`.",
    );
    return ExitCode.ok;
  }
  const rows = [["ID", "NAME", "SCOPE", "CREATED", "LAST USED", "REVOKED"], ...keys.map(toRow)];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  for (const row of rows)
    output.out(
      row
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join("  ")
        .trimEnd(),
    );
  return ExitCode.ok;
}

async function revoke(client: AirlockClient, output: Output, id: string | undefined): Promise<number> {
  if (!id) throw usageError("keys", "keys revoke needs the key's id (key_…): see `airlock keys list`.");
  await client.revokeApiKey(id);
  output.err(`Revoked ${id}: every instance refuses it from now on.`);
  return ExitCode.ok;
}

function toJson(key: ApiKey): Record<string, unknown> {
  return {
    id: key.id,
    name: key.name,
    scope: key.scope,
    created_at: key.createdAt.toISOString(),
    last_used_at: key.lastUsedAt?.toISOString() ?? null,
    revoked_at: key.revokedAt?.toISOString() ?? null,
  };
}

function toRow(key: ApiKey): string[] {
  const at = (date: Date | null) => (date ? date.toISOString().replace(/\.\d+Z$/, "Z") : "-");
  return [key.id, key.name, key.scope, at(key.createdAt), at(key.lastUsedAt), at(key.revokedAt)];
}

/** The service's refusals, with the fix for this command. */
function withFix(error: unknown, url: string): unknown {
  if (!(error instanceof AirlockApiError)) {
    if (error instanceof AirlockError && error.code === "transient") {
      return new AirlockError("transient", error.message, {
        hint: `Start the service with \`airlock serve\`, or pass --url with its address (now ${url}).`,
      });
    }
    return error;
  }
  if (error.status === 401) {
    return new AirlockError("unauthorized", error.message, {
      hint: "Pass the service's AIRLOCK_SECRET_KEY (environment) or an admin API key with --key.",
    });
  }
  return error;
}
