/** `airlock whoami`, `airlock bases`, `airlock tables BASE_ID`: the Web API with the stored login. */
import { AirtableApi } from "../../airtable/api.js";
import { parseCommandArgs, usageError } from "../args.js";
import type { CommandContext } from "../context.js";
import { type StoredCredentials, validateProfileName } from "../credentials-file.js";
import { ExitCode } from "../exit-codes.js";
import { withCliHint } from "../hints.js";
import { countOf, type Output } from "../output.js";
import { credentialStore, freshCredentials, profileCommand } from "../session.js";

const FLAGS = {
  profile: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

const COMMON_FLAGS = `Flags:
  --profile P   credentials profile (default "default")
  --json        machine-readable output`;

export const WHOAMI_HELP = `Usage: airlock whoami [--profile P] [--json]

Shows the Airtable user behind the stored login (id, email with the user.email:read scope, scopes).

${COMMON_FLAGS}
`;

export const BASES_HELP = `Usage: airlock bases [--profile P] [--json]

Lists the bases the login can reach (those granted on the consent page). Needs schema.bases:read.

${COMMON_FLAGS}
`;

export const TABLES_HELP = `Usage: airlock tables BASE_ID [--profile P] [--json]

Lists the tables of a base with their fields. Needs schema.bases:read. Find base ids with
\`airlock bases\`.

${COMMON_FLAGS}
`;

/**
 * An API client that uses (and refreshes, once across processes) the profile's tokens; a 401
 * forces one refresh fenced on the rejected token, then one retry.
 */
export async function profileApi(context: CommandContext, profile: string): Promise<AirtableApi> {
  const store = credentialStore(context.env, context.output);
  const options = { store, profile, env: context.env, signal: context.signal };
  let current: StoredCredentials = await freshCredentials(options);
  return new AirtableApi({
    apiUrl: current.apiUrl,
    accessToken: async (request) => {
      current = await freshCredentials(
        request?.forceRefresh ? { ...options, rejectedAccessToken: current.accessToken } : options,
      );
      return current.accessToken;
    },
  });
}

async function prepare(
  command: string,
  help: string,
  argv: string[],
  context: CommandContext,
  positionals: number,
): Promise<{ api: AirtableApi; json: boolean; args: string[]; profile: string } | null> {
  const { values, positionals: args } = parseCommandArgs(command, argv, FLAGS, positionals);
  if (values.help) {
    context.output.out(help);
    return null;
  }
  if (args.length < positionals) throw usageError(command, "Missing BASE_ID (e.g. appXXXXXXXXXXXXXX).");
  const profile = validateProfileName(values.profile ?? "default");
  return { api: await profileApi(context, profile), json: values.json === true, args, profile };
}

/**
 * Runs `airlock whoami`.
 */
export async function whoamiCommand(argv: string[], context: CommandContext): Promise<number> {
  const ready = await prepare("whoami", WHOAMI_HELP, argv, context, 0);
  if (!ready) return ExitCode.ok;
  const me = await ask(ready, (api) => api.whoami());
  if (ready.json) {
    context.output.out(
      JSON.stringify({ id: me.id, email: me.email ?? null, scopes: me.scopes ?? null }, null, 2),
    );
  } else {
    printRows(context.output, [
      ["User", me.id],
      ["Email", me.email ?? "(not shared: needs the user.email:read scope)"],
      ["Scopes", me.scopes?.join(" ") ?? "(not reported)"],
    ]);
  }
  return ExitCode.ok;
}

/**
 * Runs `airlock bases`.
 */
export async function basesCommand(argv: string[], context: CommandContext): Promise<number> {
  const ready = await prepare("bases", BASES_HELP, argv, context, 0);
  if (!ready) return ExitCode.ok;
  const bases = await ask(ready, (api) => api.listBases());
  if (ready.json) {
    context.output.out(JSON.stringify({ bases }, null, 2));
  } else if (bases.length === 0) {
    context.output.err(
      `No bases: grant some on the consent page (\`${profileCommand("login", ready.profile, "--force")}\`).`,
    );
  } else {
    printTable(
      context.output,
      ["ID", "NAME", "PERMISSION"],
      bases.map((b) => [b.id, b.name, b.permissionLevel]),
    );
  }
  return ExitCode.ok;
}

/**
 * Runs `airlock tables BASE_ID`.
 */
export async function tablesCommand(argv: string[], context: CommandContext): Promise<number> {
  const ready = await prepare("tables", TABLES_HELP, argv, context, 1);
  if (!ready) return ExitCode.ok;
  const { tables } = await ask(ready, (api) => api.getBaseSchema(ready.args[0]!));
  if (ready.json) {
    context.output.out(JSON.stringify({ tables }, null, 2));
    return ExitCode.ok;
  }
  for (const [index, table] of tables.entries()) {
    if (index > 0) context.output.out("");
    context.output.out(
      `${table.id}  ${table.name}  (${countOf(table.fields.length, "field")}, ${countOf(table.views.length, "view")})`,
    );
    printTable(
      context.output,
      ["  FIELD", "NAME", "TYPE"],
      table.fields.map((f) => [
        `  ${f.id}`,
        f.id === table.primaryFieldId ? `${f.name} (primary)` : f.name,
        f.type,
      ]),
    );
  }
  return ExitCode.ok;
}

/** One Web API call, its errors carrying the CLI's remedy for the profile. */
async function ask<T>(
  ready: { api: AirtableApi; profile: string },
  request: (api: AirtableApi) => Promise<T>,
): Promise<T> {
  try {
    return await request(ready.api);
  } catch (error) {
    throw withCliHint(error, ready.profile);
  }
}

function printRows(output: Output, rows: [string, string][]): void {
  const width = Math.max(...rows.map(([label]) => label.length));
  for (const [label, value] of rows) output.out(`${`${label}:`.padEnd(width + 2)}${value}`);
}

function printTable(output: Output, header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  output.out(line(header));
  for (const row of rows) output.out(line(row));
}
