/**
 * The SDK as a user gets it: `npm pack` (which builds it through `prepack`), the tarball installed
 * into an empty project, then imported and required there by a separate Node process. Its whole
 * installed tree must be the one package: none of the service's dependencies (a native SQLite
 * build, the PostgreSQL driver, the HTTP framework) may come along.
 */
import { execFileSync, spawnSync } from "node:child_process";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const repoRoot = join(packageDir, "..", "..");
const SERVICE_DEPENDENCIES = ["better-sqlite3", "pg", "hono", "@hono/node-server", "kysely", "zod"];

interface PackResult {
  filename: string;
  files: { path: string }[];
}
interface LsNode {
  version?: string;
  dependencies?: Record<string, LsNode>;
}

function run(command: string, args: string[], cwd: string, extraEnv: Record<string, string> = {}): string {
  return execFileSync(command, args, {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, npm_config_update_notifier: "false", ...extraEnv },
  });
}

/** Every package name anywhere in an `npm ls --all --json` tree. */
function namesIn(tree: Record<string, LsNode> | undefined): string[] {
  return Object.entries(tree ?? {}).flatMap(([name, node]) => [name, ...namesIn(node.dependencies)]);
}

describe("@airlock/client installed from its packed tarball", () => {
  let work: string;
  let project: string;
  let packed: PackResult;
  let packedFrom: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "airlock-client-pack-"));
    // Pack a copy without dist/, laid out as in the repo (the package's tsconfig extends the root's),
    // so `prepack` must build it, and the repo's own dist/ (which other suites import) is not rewritten.
    const stage = join(work, "repo");
    const stagedPackage = join(stage, "packages", "client");
    for (const name of ["package.json", "README.md", "tsconfig.json", "tsconfig.build.json", "src"]) {
      cpSync(join(packageDir, name), join(stagedPackage, name), { recursive: true });
    }
    cpSync(join(repoRoot, "tsconfig.json"), join(stage, "tsconfig.json"));
    symlinkSync(join(repoRoot, "node_modules"), join(stage, "node_modules"));
    // With --json, npm sends prepack's output to stderr and only the answer to stdout.
    const [result] = JSON.parse(
      run("npm", ["pack", "--json", "--pack-destination", work], stagedPackage),
    ) as PackResult[];
    packed = result!;
    packedFrom = stagedPackage;
    project = join(work, "consumer");
    mkdirSync(project);
    writeFileSync(
      join(project, "package.json"),
      JSON.stringify({ name: "consumer", version: "1.0.0", private: true }),
    );
    run(
      "npm",
      ["install", join(work, packed.filename), "--no-audit", "--no-fund", "--prefer-offline"],
      project,
    );
  }, 180_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("ships the built ESM and its types, not the tests or source maps into missing files", () => {
    const paths = packed.files.map((f) => f.path).sort();
    expect(paths).toContain("package.json");
    expect(paths).toContain("README.md");
    expect(paths).toContain("dist/index.js");
    expect(paths).toContain("dist/index.d.ts");
    expect(paths.filter((p) => /\.test\.|(^|\/)test\//.test(p))).toEqual([]);
    // A source map may only ship with the sources it points at.
    for (const map of paths.filter((p) => p.endsWith(".map"))) {
      const { sources } = JSON.parse(readFileSync(join(packedFrom, map), "utf8")) as { sources: string[] };
      for (const source of sources) expect(paths).toContain(join(map, "..", source));
    }
  });

  it("installs as one package with no dependencies: none of the service's", () => {
    const tree = JSON.parse(run("npm", ["ls", "--all", "--json"], project)) as LsNode;
    const names = namesIn(tree.dependencies);
    expect(names).toEqual(["@airlock/client"]);
    for (const dependency of SERVICE_DEPENDENCIES) expect(names).not.toContain(dependency);
    expect(readdirSync(join(project, "node_modules")).filter((n) => !n.startsWith("."))).toEqual([
      "@airlock",
    ]);
    const manifest = JSON.parse(
      readFileSync(join(project, "node_modules", "@airlock", "client", "package.json"), "utf8"),
    ) as { dependencies?: object; type?: string; engines?: { node?: string } };
    expect(manifest.dependencies ?? {}).toEqual({});
    expect(manifest.type).toBe("module");
    expect(manifest.engines?.node).toBe("^20.19.0 || >=22.12.0");
  });

  it("imports (ESM) and works: a client, its errors, webhook verification", () => {
    const script = `
      import { createHmac } from "node:crypto";
      import * as sdk from "@airlock/client";
      const client = new sdk.AirlockClient({ baseUrl: "http://127.0.0.1:9", secretKey: "k".repeat(32) });
      const error = await client.getConnection("user_123").catch((e) => e);
      const secret = Buffer.from("0123456789abcdef0123456789abcdef");
      const body = JSON.stringify({ type: "connection.created", timestamp: "2025-01-01T00:00:00Z", data: { identifier: "u1" } });
      const now = Math.floor(Date.now() / 1000);
      const signature = createHmac("sha256", secret).update("msg_1." + now + "." + body).digest("base64");
      const event = sdk.verifyWebhook("whsec_" + secret.toString("base64"),
        { "webhook-id": "msg_1", "webhook-timestamp": String(now), "webhook-signature": "v1," + signature }, body);
      console.log(JSON.stringify({
        exports: Object.keys(sdk).sort(),
        error: { name: error.name, code: error.code, airlock: sdk.isAirlockError(error, "transient"), hint: error.hint },
        event,
      }));
    `;
    const result = JSON.parse(run("node", ["--input-type=module", "-e", script], project));
    expect(result.exports).toEqual([
      "AirlockApiError",
      "AirlockClient",
      "AirlockError",
      "WebhookVerificationError",
      "isAirlockError",
      "verifyWebhook",
    ]);
    expect(result.error).toMatchObject({ name: "AirlockError", code: "transient", airlock: true });
    expect(result.error.hint).toContain("airlock serve");
    expect(result.event).toMatchObject({
      id: "msg_1",
      type: "connection.created",
      data: { identifier: "u1" },
    });
  });

  it("require() works from CommonJS on Node >= 20.19 (require of ESM), and is refused without it", () => {
    const script = `const { AirlockClient } = require("@airlock/client"); console.log(typeof AirlockClient);`;
    expect(run("node", ["-e", script], project).trim()).toBe("function");
    // Node before 20.19 (and 22.0–22.11) behaves like this: ESM cannot be require()d.
    const old = spawnSync("node", ["--no-experimental-require-module", "-e", script], {
      cwd: project,
      encoding: "utf8",
    });
    expect(old.status).not.toBe(0);
    expect(old.stderr).toContain("ERR_REQUIRE_ESM");
  });

  it("type-checks in a strict NodeNext TypeScript project, without @types/node", () => {
    writeFileSync(
      join(project, "consumer.ts"),
      `import {
  AirlockApiError,
  AirlockClient,
  type AirtableWebhook,
  type Connection,
  verifyWebhook,
} from "@airlock/client";
const client = new AirlockClient({ baseUrl: "http://localhost:4000", secretKey: "secret" });
export async function status(id: string): Promise<Connection["status"] | "gone"> {
  try {
    return (await client.getConnection(id)).status;
  } catch (err) {
    if (err instanceof AirlockApiError && err.status === 404) return "gone";
    throw err;
  }
}
export const check = (body: string) => verifyWebhook("whsec_c2VjcmV0", {}, body).data.identifier;
export async function pending(id: string): Promise<Array<Pick<AirtableWebhook, "id" | "cursor">>> {
  const webhooks = await client.listAirtableWebhooks(id);
  return webhooks.filter((w) => w.delivery.pending > 0 && w.expirationTime instanceof Date);
}
export function nextCursor(body: string): number | null {
  const event = verifyWebhook("whsec_c2VjcmV0", {}, body);
  return event.type === "airtable.payloads" && event.data.payloads.length > 0 ? event.data.next_cursor : null;
}
`,
    );
    writeFileSync(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          module: "NodeNext",
          moduleResolution: "NodeNext",
          target: "ES2022",
          // fetch's types from the DOM lib: the declarations need nothing from Node's.
          lib: ["ES2023", "DOM"],
          types: [],
          noEmit: true,
          // Check the package's declarations, not TypeScript's own lib files.
          skipLibCheck: false,
          skipDefaultLibCheck: true,
        },
        files: ["consumer.ts"],
      }),
    );
    const tsc = join(repoRoot, "node_modules", "typescript", "bin", "tsc");
    const result = spawnSync("node", [tsc, "-p", "."], { cwd: project, encoding: "utf8" });
    expect(result.stdout + result.stderr).toBe("");
    expect(result.status).toBe(0);
  }, 120_000);
});
