/**
 * Demo mode's secret key and encryption keys: generated on the first start and kept in a 0600 file
 * (`.airlock/demo-keys.json` beside the SQLite database, never inside it), so a restart can still
 * decrypt the stored tokens and the printed secret key keeps working.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { z } from "zod";
import { AirlockError, errorCode } from "../shared/errors.js";
import { generateKeyringValue } from "../store/crypto.js";
import { airlockDataDir, sqliteFile } from "./data-dir.js";
import { randomToken } from "./secrets.js";

const DemoKeysSchema = z.object({
  secret_key: z.string().min(16),
  encryption_keys: z.string().min(1),
});

export interface DemoKeys {
  secretKey: string;
  encryptionKeys: string;
  /** True when this call generated the file. */
  created: boolean;
  path: string;
}

/**
 * Where demo keys live for a database: `.airlock/demo-keys.json` in the SQLite file's folder (the
 * working directory for a Postgres URL).
 */
export function demoKeysPath(databaseUrl: string): string {
  return join(airlockDataDir(databaseUrl), "demo-keys.json");
}

/**
 * Where the demo emulator keeps its grants, so connections survive a restart of `npm start`:
 * beside the demo keys, for a SQLite file only (a PostgreSQL or in-memory demo starts fresh).
 */
export function demoEmulatorStatePath(databaseUrl: string): string | undefined {
  if (sqliteFile(databaseUrl) === undefined) return undefined;
  return join(dirname(demoKeysPath(databaseUrl)), "demo-emulator.json");
}

/**
 * Reads the kept demo keys, or creates them (exclusively, mode 0600, so two instances starting at
 * once end up with the same keys).
 */
export function loadOrCreateDemoKeys(path: string): DemoKeys {
  const fresh = { secret_key: `sk_demo_${randomToken(24)}`, encryption_keys: generateKeyringValue("demo1") };
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    writeFileSync(path, `${JSON.stringify(fresh, null, 2)}\n`, { flag: "wx", mode: 0o600 });
    return { secretKey: fresh.secret_key, encryptionKeys: fresh.encryption_keys, created: true, path };
  } catch (error) {
    if (errorCode(error) !== "EEXIST") throw error;
  }
  let parsed: z.infer<typeof DemoKeysSchema>;
  try {
    parsed = DemoKeysSchema.parse(JSON.parse(readFileSync(path, "utf8")));
  } catch {
    throw new AirlockError("config_invalid", `The demo key file ${path} is damaged.`, {
      hint: `Delete ${path} and the demo database next to it, then start again (demo connections are lost), or set AIRLOCK_SECRET_KEY and AIRLOCK_ENCRYPTION_KEYS.`,
    });
  }
  return { secretKey: parsed.secret_key, encryptionKeys: parsed.encryption_keys, created: false, path };
}
