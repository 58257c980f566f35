import { describe, expect, it } from "vitest";
import { isAirlockError } from "../shared/errors.js";
import { redirectUriProblem, resolveConfig } from "./config.js";
import { BASIC_SCOPES } from "./scopes.js";

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isAirlockError(err, "config_invalid")) return err.message;
    throw err;
  }
  throw new Error("expected a config_invalid error");
}

describe("resolveConfig", () => {
  it("applies Airtable's defaults", () => {
    const c = resolveConfig();
    expect(c).toMatchObject({
      port: 0,
      host: "127.0.0.1",
      clientId: "airlock-emulator-client",
      clientSecret: undefined,
      redirectUris: ["http://localhost:8085/callback"],
      scopes: BASIC_SCOPES,
      autoApprove: false,
      accessTokenTtl: 3600,
      refreshTokenTtl: 5_184_000,
      latencyMs: 0,
      apiLatencyMs: 0,
      basesPageSize: 1000,
    });
  });

  it("names the bad option", () => {
    expect(configError(() => resolveConfig({ port: 70000 }))).toContain("port");
    expect(configError(() => resolveConfig({ accessTokenTtl: 0 }))).toContain("accessTokenTtl");
    expect(configError(() => resolveConfig({ latencyMs: 1.5 }))).toContain("latencyMs");
    expect(configError(() => resolveConfig({ scopes: ["webhook.manage"] }))).toContain("webhook.manage");
    expect(configError(() => resolveConfig({ scopes: [] }))).toContain("scopes");
    expect(configError(() => resolveConfig({ scopes: ["user.email:read", "user.email:read"] }))).toContain(
      "twice",
    );
    expect(configError(() => resolveConfig({ redirectUris: ["http://example.com/cb"] }))).toContain("https");
    expect(configError(() => resolveConfig({ redirectUris: [] }))).toContain("redirectUris");
    expect(configError(() => resolveConfig({ clientId: "" }))).toContain("clientId");
    expect(configError(() => resolveConfig({ clientSecret: "" }))).toContain("clientSecret");
    expect(configError(() => resolveConfig({ basesPageSize: 0 }))).toContain("basesPageSize");
  });
});

describe("redirectUriProblem (Airtable's registration rules)", () => {
  it.each([
    ["http://localhost:8085/callback", undefined],
    ["http://127.0.0.1:9000/cb", undefined],
    ["https://app.example.com/oauth/callback", undefined],
    ["http://app.example.com/cb", "https"],
    ["https://user:pw@app.example.com/cb", "user name"],
    ["https://app.example.com/cb#x", "fragment"],
    ["https://app.example.com/a/../cb", ".."],
    ["https://10.0.0.1/cb", "raw IP"],
    ["https://intranet/cb", "public suffix"],
    ["not a url", "absolute URL"],
    // The public suffix list decides (tldts), not a hand-written list: ICANN and private suffixes count.
    ["https://app.notatld/cb", "public suffix"],
    ["https://printer.local/cb", "public suffix"],
    ["https://app.example.co.uk/cb", undefined],
    ["https://x.github.io/cb", undefined],
    ["https://localhost/cb", undefined],
    ["http://127.0.0.1/cb", undefined],
    ["http://localhost.example.com/cb", "https"],
    ["https://127.0.0.2/cb", "raw IP"],
  ])("%s", (uri, problem) => {
    const found = redirectUriProblem(uri);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(problem);
  });

  it("a registration on a host without a public suffix is refused as Airtable refuses it", () => {
    const message = configError(() => resolveConfig({ redirectUris: ["https://app.notatld/cb"] }));
    expect(message).toBe(
      'Emulator option redirectUris: "https://app.notatld/cb": The redirect URI host "app.notatld" does not end in a public suffix; Airtable requires one (except for localhost).',
    );
    let hint = "";
    try {
      resolveConfig({ redirectUris: ["https://app.notatld/cb"] });
    } catch (err) {
      if (isAirlockError(err)) hint = err.hint;
    }
    expect(hint).toContain("Airtable refuses to register such a URI");
    expect(
      resolveConfig({ redirectUris: ["https://app.example.co.uk/cb", "https://x.github.io/cb"] })
        .redirectUris,
    ).toEqual(["https://app.example.co.uk/cb", "https://x.github.io/cb"]);
  });

  it("data: checked seed data is kept; bad seed data is refused naming its JSON path", () => {
    expect(resolveConfig().data).toBeUndefined();
    const seed = {
      bases: [{ name: "B", tables: [{ name: "T", fields: [{ name: "Name", type: "singleLineText" }] }] }],
    };
    expect(resolveConfig({ data: seed }).data).toEqual(seed);
    expect(configError(() => resolveConfig({ data: { bases: [{ name: "B", tables: [] }] } }))).toBe(
      "Emulator option data: bases[0].tables: needs at least one table",
    );
  });

  it("stateFile: resolved to an absolute path; empty is refused", () => {
    expect(resolveConfig().stateFile).toBeUndefined();
    expect(resolveConfig({ stateFile: "x/state.json" }).stateFile).toBe(`${process.cwd()}/x/state.json`);
    expect(configError(() => resolveConfig({ stateFile: "" }))).toContain("stateFile");
  });
});
