/**
 * A PostgreSQL server of the test's own, which the test may stop and start (an outage, a restart)
 * without disturbing the shared AIRLOCK_TEST_DATABASE_URL server that other test files use.
 *
 * `initdb` into a temp dir (trust auth, as the `postgres` OS user through `runuser` when we are
 * root, since PostgreSQL refuses to run as root), listening on 127.0.0.1 and a pre-chosen free port
 * with its unix socket in the temp dir. Missing binaries (or root without a `postgres` user): call
 * `privatePostgresMissing()` and skip with its message, as `announceSkipIfNoPostgres` does.
 */
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { freePort } from "./ports.js";

/** Where the PostgreSQL binaries are: $AIRLOCK_PG_BIN, the newest /usr/lib/postgresql/N/bin, or PATH. */
function binDir(): string | undefined {
  const candidates: string[] = [];
  if (process.env.AIRLOCK_PG_BIN) candidates.push(process.env.AIRLOCK_PG_BIN);
  const debian = "/usr/lib/postgresql";
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => join(debian, v, "bin")));
  }
  for (const dir of (process.env.PATH ?? "").split(":")) if (dir) candidates.push(dir);
  return candidates.find((dir) => existsSync(join(dir, "initdb")) && existsSync(join(dir, "pg_ctl")));
}

const execFileAsync = promisify(execFile);

const isRoot = () => typeof process.getuid === "function" && process.getuid() === 0;

function hasPostgresUser(): boolean {
  return spawnSync("id", ["-u", "postgres"], { stdio: "ignore" }).status === 0;
}

/**
 * Why a private server cannot be started here (with the fix), or undefined when it can.
 *
 * @example
 * const missing = privatePostgresMissing();
 * announceSkip("multiprocess", "outage tests", missing);
 * describe.skipIf(missing !== undefined)("outage", () => { … });
 */
export function privatePostgresMissing(): string | undefined {
  if (!binDir()) {
    return "PostgreSQL server binaries (initdb, pg_ctl) not found; apt-get install postgresql (or set AIRLOCK_PG_BIN)";
  }
  if (isRoot() && !hasPostgresUser()) {
    return "running as root without a `postgres` OS user for initdb; apt-get install postgresql (creates it) or run as a normal user";
  }
  if (isRoot() && spawnSync("runuser", ["--help"], { stdio: "ignore" }).error) {
    return "running as root and `runuser` is missing; apt-get install util-linux";
  }
  return undefined;
}

export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` */
  readonly url: string;
  readonly port: number;
  /** The temp dir holding the data dir, the socket dir and the server log. */
  readonly dir: string;
  /** Starts the server (again) and waits until it accepts connections. */
  start(): Promise<void>;
  /**
   * Stops the server: "fast" ends live sessions with 57P01 admin_shutdown and checkpoints;
   * "immediate" is a crash-like stop (recovery on the next start).
   */
  stop(mode: "fast" | "immediate"): Promise<void>;
  /** True while the server runs. */
  readonly running: boolean;
  /** Creates a database and resolves to its URL. */
  createDatabase(name: string): Promise<string>;
  /** The server log so far (for assertion messages). */
  log(): string;
  /** Stops the server at once and deletes its files. */
  destroy(): Promise<void>;
}

const live = new Set<{ stopNow(): void }>();
process.once("exit", () => {
  for (const server of live) server.stopNow();
});

/**
 * Creates and starts a private PostgreSQL server in a temp dir.
 *
 * @example
 * const server = await startPrivatePostgres("outage");
 * const url = await server.createDatabase("airlock");
 * await server.stop("fast"); // an outage
 * await server.start();
 * await server.destroy();
 */
export async function startPrivatePostgres(label: string): Promise<PrivatePostgres> {
  const missing = privatePostgresMissing();
  if (missing) throw new Error(`cannot start a private PostgreSQL: ${missing}`);
  const bin = binDir()!;
  const dir = mkdtempSync(join(tmpdir(), `airlock-pg-${label.replace(/\W/g, "_")}-`));
  const data = join(dir, "data");
  const socketDir = dir;
  const logFile = join(dir, "server.log");
  const root = isRoot();
  if (root) chownSync(dir, Number(execFileSync("id", ["-u", "postgres"]).toString().trim()), -1);
  /** A server binary's command line, as the user PostgreSQL accepts (postgres when we are root). */
  const argv = (tool: string, args: string[]) =>
    root ? ["runuser", "-u", "postgres", "--", join(bin, tool), ...args] : [join(bin, tool), ...args];
  const failed = (tool: string, args: string[], code: unknown, output: string) =>
    new Error(`${tool} ${args.join(" ")} failed (${String(code)}): ${output}\n${readLog()}`);
  /** Synchronous: for initdb and the exit handler. */
  const run = (tool: string, args: string[]) => {
    const [command, ...rest] = argv(tool, args);
    const result = spawnSync(command!, rest, { cwd: dir, encoding: "utf8", timeout: 60_000 });
    if (result.status !== 0)
      throw failed(tool, args, result.status ?? result.signal, `${result.stderr}${result.stdout}`);
  };
  /** Asynchronous: start and stop happen while the test's own requests are in flight. */
  const runAsync = async (tool: string, args: string[]) => {
    const [command, ...rest] = argv(tool, args);
    try {
      await execFileAsync(command!, rest, { cwd: dir, encoding: "utf8", timeout: 60_000 });
    } catch (error) {
      const e = error as { code?: unknown; stderr?: string; stdout?: string };
      throw failed(tool, args, e.code, `${e.stderr ?? ""}${e.stdout ?? ""}`);
    }
  };
  const readLog = () => (existsSync(logFile) ? readFileSync(logFile, "utf8").slice(-4000) : "");

  run("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale=C"]);
  const port = await freePort();
  const options = [
    `-p ${port}`,
    `-k ${socketDir}`,
    "-c listen_addresses=127.0.0.1",
    "-c max_connections=200",
    // Test data only: the server is stopped, never the machine.
    "-c fsync=off",
    "-c full_page_writes=off",
  ].join(" ");
  let running = false;
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;

  const server: PrivatePostgres = {
    url,
    port,
    dir,
    get running() {
      return running;
    },
    async start() {
      await runAsync("pg_ctl", ["-D", data, "-l", logFile, "-o", options, "-w", "-t", "60", "start"]);
      running = true;
    },
    async stop(mode) {
      await runAsync("pg_ctl", ["-D", data, "-m", mode, "-w", "-t", "60", "stop"]);
      running = false;
    },
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name}"`);
      } finally {
        await client.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    log: readLog,
    async destroy() {
      handle.stopNow();
      live.delete(handle);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const handle = {
    stopNow() {
      if (!running) return;
      try {
        run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
      } catch {
        // already gone
      }
      running = false;
    },
  };
  live.add(handle);
  await server.start();
  return server;
}
