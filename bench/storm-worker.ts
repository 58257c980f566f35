/**
 * One process of the refresh-storm benchmark: opens the shared PostgreSQL store, prints "ready",
 * waits for "go" on stdin, then has CALLERS concurrent callers ask for the same connection's token
 * (already expired on this process's clock, moved with libfaketime) and prints one JSON line.
 */
import { createInterface } from "node:readline";
import { AirtableOAuth } from "../src/airtable/oauth.js";
import { openStore, parseEncryptionKeys } from "../src/store/index.js";
import { TokenManager } from "../src/tokens/token-manager.js";

const env = process.env;
const required = (name: string): string => {
  const value = env[name];
  if (!value) throw new Error(`storm worker: ${name} is not set`);
  return value;
};

const store = await openStore(required("DATABASE_URL"), {
  keyring: parseEncryptionKeys(required("AIRLOCK_ENCRYPTION_KEYS")),
  migrate: false,
});
const oauth = new AirtableOAuth({
  clientId: required("AIRTABLE_CLIENT_ID"),
  clientSecret: required("AIRTABLE_CLIENT_SECRET"),
  redirectUri: required("AIRTABLE_REDIRECT_URI"),
  scopes: ["data.records:read"],
  oauthUrl: required("AIRTABLE_OAUTH_URL"),
  apiUrl: required("AIRTABLE_OAUTH_URL"),
});
const tokens = new TokenManager({ store, refresher: oauth });
const identifier = required("STORM_IDENTIFIER");
const callers = Number(required("STORM_CALLERS"));

process.stdout.write("ready\n");
const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line.trim() === "go") break;
}

const waits: number[] = [];
const seen = new Set<string>();
let errors = 0;
await Promise.all(
  Array.from({ length: callers }, async () => {
    const started = performance.now();
    try {
      const token = await tokens.getAccessToken(identifier);
      seen.add(token.accessToken);
    } catch {
      errors++;
    }
    waits.push(performance.now() - started);
  }),
);
// The token itself never leaves the process: only how many distinct ones were seen.
process.stdout.write(`${JSON.stringify({ waits, errors, distinctTokens: seen.size })}\n`);
await store.close();
process.exit(0);
