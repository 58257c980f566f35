import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { AirtableOAuthConfig } from "../airtable/types.js";
import { isAirlockError } from "../shared/errors.js";
import { readIntegrationsFile } from "./integrations-config.js";

const defaults: AirtableOAuthConfig = {
  clientId: "main-client",
  clientSecret: "main-secret",
  redirectUri: "https://airlock.example.com/oauth/callback",
  scopes: ["data.records:read"],
  oauthUrl: "https://airtable.com",
  apiUrl: "https://api.airtable.com",
};

const dir = mkdtempSync(join(tmpdir(), "airlock-integrations-"));
let files = 0;

function fileWith(content: unknown): string {
  const path = join(dir, `integrations-${files++}.json`);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

function refusal(env: NodeJS.ProcessEnv): { message: string; hint: string } {
  try {
    readIntegrationsFile(env, defaults);
  } catch (error) {
    if (isAirlockError(error, "config_invalid")) return { message: error.message, hint: error.hint ?? "" };
    throw error;
  }
  throw new Error("expected config_invalid");
}

const entry = { id: "readonly", client_id: "ro-client", scopes: "data.records:read schema.bases:read" };

describe("AIRLOCK_INTEGRATIONS_FILE", () => {
  it("adds nothing when unset", () => {
    expect(readIntegrationsFile({}, defaults)).toEqual([]);
  });

  it("reads integrations that share the callback and Airtable URLs, the secret from a variable", () => {
    const path = fileWith({
      integrations: [
        { ...entry, name: "Read-only", client_secret_env: "RO_SECRET" },
        { id: "public-app", client_id: "pub", scopes: "data.records:write" },
      ],
    });
    const read = readIntegrationsFile({ AIRLOCK_INTEGRATIONS_FILE: path, RO_SECRET: "s3cret" }, defaults);
    expect(read).toEqual([
      {
        id: "readonly",
        name: "Read-only",
        airtable: {
          ...defaults,
          clientId: "ro-client",
          clientSecret: "s3cret",
          scopes: ["data.records:read", "schema.bases:read"],
        },
      },
      {
        id: "public-app",
        name: "public-app",
        airtable: { ...defaults, clientId: "pub", clientSecret: undefined, scopes: ["data.records:write"] },
      },
    ]);
  });

  it.each([
    ["an unreadable file", () => join(dir, "missing.json"), "cannot read"],
    ["bad JSON", () => fileWith("{not json"), "is not valid JSON"],
    ["a missing list", () => fileWith({}), "integrations"],
    ["an unknown key", () => fileWith({ integrations: [{ ...entry, secret: "x" }] }), "integrations.0"],
    ["a bad id", () => fileWith({ integrations: [{ ...entry, id: "Read Only" }] }), "integrations.0.id"],
    ["the reserved id", () => fileWith({ integrations: [{ ...entry, id: "default" }] }), "reserved"],
    [
      "an id twice",
      () => fileWith({ integrations: [entry, { ...entry, client_id: "other" }] }),
      "used twice",
    ],
    [
      "the default's client id",
      () => fileWith({ integrations: [{ ...entry, client_id: "main-client" }] }),
      "client_id",
    ],
    [
      "an unknown scope",
      () => fileWith({ integrations: [{ ...entry, scopes: "data.record:read" }] }),
      "scopes",
    ],
    [
      "both secret fields",
      () => fileWith({ integrations: [{ ...entry, client_secret: "a", client_secret_env: "B" }] }),
      "both client_secret",
    ],
    [
      "a secret variable that is not set",
      () => fileWith({ integrations: [{ ...entry, client_secret_env: "NOT_SET_ANYWHERE" }] }),
      "NOT_SET_ANYWHERE",
    ],
  ])("refuses %s, naming the problem and the fix", (_what, path, expected) => {
    const { message, hint } = refusal({ AIRLOCK_INTEGRATIONS_FILE: path() });
    expect(message).toContain("AIRLOCK_INTEGRATIONS_FILE");
    expect(message).toContain(expected);
    expect(hint.length).toBeGreaterThan(10);
  });

  it("never puts a secret in its errors", () => {
    const path = fileWith({ integrations: [{ ...entry, client_secret: "topsecret-value", scopes: "nope" }] });
    const { message, hint } = refusal({ AIRLOCK_INTEGRATIONS_FILE: path });
    expect(`${message} ${hint}`).not.toContain("topsecret-value");
  });
});
