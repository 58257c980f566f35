import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { api, loginAutoApproved } from "../../emulator/testing.js";
import { emulatorCommand, parseEmulatorArgs } from "./emulator.js";

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (l: string) => out.push(l), stderr: (l: string) => err.push(l) } };
}

describe("parseEmulatorArgs", () => {
  it("maps every flag", () => {
    expect(
      parseEmulatorArgs([
        "--port=0",
        "--host",
        "127.0.0.1",
        "--client-id",
        "abc",
        "--client-secret",
        "s",
        "--redirect-uri",
        "http://localhost:1/a",
        "--redirect-uri",
        "http://localhost:2/b",
        "--scopes",
        "data.records:read  user.email:read",
        "--auto-approve",
        "--access-token-ttl",
        "60",
        "--refresh-token-ttl",
        "120",
        "--latency-ms",
        "300",
        "--api-latency-ms",
        "5",
      ]),
    ).toEqual({
      port: 0,
      host: "127.0.0.1",
      clientId: "abc",
      clientSecret: "s",
      redirectUris: ["http://localhost:1/a", "http://localhost:2/b"],
      scopes: ["data.records:read", "user.email:read"],
      autoApprove: true,
      accessTokenTtl: 60,
      refreshTokenTtl: 120,
      latencyMs: 300,
      apiLatencyMs: 5,
    });
    expect(parseEmulatorArgs(["-h"])).toBe("help");
    expect(parseEmulatorArgs(["--state-file", "s.json"])).toEqual({ stateFile: "s.json" });
    expect(parseEmulatorArgs(["--data", "seed.json"])).toEqual({ dataFile: "seed.json" });
  });

  it.each([
    [["--port", "abc"], "--port"],
    [["--port", "70000"], "--port"],
    [["--latency-ms", "-5"], "--latency-ms"],
    [["--access-token-ttl", "0"], "--access-token-ttl"],
    [["--scopes", "  "], "--scopes"],
    [["--bogus"], "bogus"],
    [["stray"], "stray"],
    [["--auto-approve=yes"], "auto-approve"],
    [["--state-file="], "--state-file"],
    [["--data="], "--data"],
  ])("%j is a usage error naming the flag", (argv, name) => {
    expect(() => parseEmulatorArgs(argv)).toThrow(name);
  });
});

describe("emulatorCommand", () => {
  it("prints exactly one URL line on stdout, a summary on stderr, and exits 0 when stopped", async () => {
    const { out, err, io } = capture();
    const controller = new AbortController();
    const done = emulatorCommand(["--port", "0", "--client-id", "cli-test", "--client-secret", "TOPSECRET"], {
      ...io,
      signal: controller.signal,
    });
    await expect.poll(() => out.length).toBe(1);
    const url = /^Airtable emulator listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(out[0]!)?.[1];
    expect(url).toBeDefined();
    expect((await fetch(`${url}/__emulator/stats`)).status).toBe(200);
    expect(err.join("\n")).toContain("cli-test");
    expect(err.join("\n")).toContain("http://localhost:8085/callback");
    expect(err.join("\n")).not.toContain("TOPSECRET");
    controller.abort();
    expect(await done).toBe(0);
    await expect(fetch(`${url}/__emulator/stats`)).rejects.toThrow();
  });

  it("bad flags → exit 2 with an error and where to look", async () => {
    const { out, err, io } = capture();
    expect(await emulatorCommand(["--port", "x"], io)).toBe(2);
    expect(out).toEqual([]);
    expect(err[0]).toMatch(/^error: --port/);
    expect(err[1]).toContain("--help");
  });

  it("invalid registration → exit 5 naming the option", async () => {
    const { err, io } = capture();
    expect(await emulatorCommand(["--redirect-uri", "http://example.com/cb"], io)).toBe(5);
    expect(err.join("\n")).toContain("https");
    expect(await emulatorCommand(["--redirect-uri", "https://app.notatld/cb"], io)).toBe(5);
    expect(err.join("\n")).toContain('host "app.notatld" does not end in a public suffix');
    expect(await emulatorCommand(["--scopes", "webhook.manage"], io)).toBe(5);
    expect(err.join("\n")).toContain("webhook.manage");
  });

  it("--help prints usage on stdout and exits 0", async () => {
    const { out, io } = capture();
    expect(await emulatorCommand(["--help"], io)).toBe(0);
    expect(out.join("\n")).toContain("--auto-approve");
    expect(out.join("\n")).toContain("--state-file PATH");
  });

  it("--state-file keeps tokens across a restart; a damaged file → exit 5 saying how to fix it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "airlock-emulator-cli-"));
    const file = join(dir, "state.json");
    async function run(): Promise<{ url: string; stop: () => Promise<number>; err: string[] }> {
      const { out, err, io } = capture();
      const controller = new AbortController();
      const done = emulatorCommand(["--auto-approve", "--state-file", file], {
        ...io,
        signal: controller.signal,
      });
      await expect.poll(() => out.length).toBe(1);
      const url = /listening on (\S+)$/.exec(out[0]!)![1]!;
      const stop = () => {
        controller.abort();
        return done;
      };
      return { url, err, stop };
    }
    try {
      const first = await run();
      expect(first.err.join("\n")).toContain(`kept in ${file}`);
      const login = await loginAutoApproved(first.url, "data.records:read");
      expect(await first.stop()).toBe(0);
      expect(readFileSync(file, "utf8")).not.toContain(login.access_token);

      const second = await run();
      expect((await api(second.url, "/v0/meta/whoami", login.access_token)).status).toBe(200);
      expect(await second.stop()).toBe(0);

      writeFileSync(file, "{ half a file");
      const { out, err, io } = capture();
      expect(await emulatorCommand(["--state-file", file], io)).toBe(5);
      expect(out).toEqual([]);
      expect(err[0]).toContain(file);
      expect(err[1]).toContain(`Delete ${file}`);
      expect(err.join("\n")).not.toMatch(/\n\s+at /); // no stack trace
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("emulatorCommand --data FILE", () => {
  const SEED = {
    bases: [
      {
        name: "Mine",
        tables: [
          {
            name: "Things",
            fields: [{ name: "Name", type: "singleLineText" }],
            records: [{ fields: { Name: "one" } }],
          },
        ],
      },
    ],
  };

  function withFile<T>(content: string | undefined, run: (file: string) => Promise<T>): Promise<T> {
    const dir = mkdtempSync(join(tmpdir(), "airlock-emulator-data-"));
    const file = join(dir, "seed.json");
    if (content !== undefined) writeFileSync(file, content);
    return run(file).finally(() => rmSync(dir, { recursive: true, force: true }));
  }

  it("serves the file's bases and records and says so", async () => {
    await withFile(JSON.stringify(SEED), async (file) => {
      const { out, err, io } = capture();
      const controller = new AbortController();
      const done = emulatorCommand(["--auto-approve", "--data", file], { ...io, signal: controller.signal });
      await expect.poll(() => out.length).toBe(1);
      const url = /listening on (\S+)$/.exec(out[0]!)![1]!;
      expect(err.join("\n")).toContain(`seed data from ${file}`);
      const { access_token } = await loginAutoApproved(url, "schema.bases:read data.records:read");
      const bases = (await api(url, "/v0/meta/bases", access_token)).json.bases as {
        id: string;
        name: string;
      }[];
      expect(bases.map((b) => b.name)).toEqual(["Mine"]);
      const records = await api(url, `/v0/${bases[0]!.id}/Things`, access_token);
      expect((records.json.records as { fields: unknown }[]).map((r) => r.fields)).toEqual([{ Name: "one" }]);
      controller.abort();
      expect(await done).toBe(0);
    });
  });

  it.each([
    ["a missing file", undefined, "cannot read the seed data file", "Check the path given to --data"],
    ["a file that is not JSON", "{ nope", "is not valid JSON", "Fix the JSON"],
    [
      "data that breaks a rule",
      JSON.stringify({ bases: [{ name: "B", tables: [] }] }),
      "Emulator option data: bases[0].tables: needs at least one table",
      "Fix that value",
    ],
  ])("%s → exit 5 with what is wrong and how to fix it", async (_what, content, message, hint) => {
    await withFile(content, async (file) => {
      const { out, err, io } = capture();
      expect(await emulatorCommand(["--data", file], io)).toBe(5);
      expect(out).toEqual([]);
      expect(err[0]).toContain(message);
      expect(err[1]).toContain(hint);
      expect(err.join("\n")).not.toMatch(/\n\s+at /);
    });
  });

  it("--help documents --data, the seed format and the control API", async () => {
    const { out, io } = capture();
    await emulatorCommand(["--help"], io);
    const help = out.join("\n");
    for (const text of [
      "--data FILE",
      '"bases": [',
      "/__emulator/grants/:id/revoke",
      "/__emulator/grants/:id/bases",
      "/__emulator/bases/:baseId/tables/:tableIdOrName/records",
      "5 req/s",
    ]) {
      expect(help).toContain(text);
    }
  });
});

describe("emulatorCommand --integrations FILE", () => {
  function withFile<T>(content: string | undefined, run: (file: string) => Promise<T>): Promise<T> {
    const dir = mkdtempSync(join(tmpdir(), "airlock-emulator-integrations-"));
    const file = join(dir, "integrations.json");
    if (content !== undefined) writeFileSync(file, content);
    return run(file).finally(() => rmSync(dir, { recursive: true, force: true }));
  }

  it("parses the flag into integrationsFile", () => {
    expect(parseEmulatorArgs(["--integrations", "i.json"])).toEqual({ integrationsFile: "i.json" });
  });

  it("hosts the file's integrations next to the first one, and says so without secrets", async () => {
    const integrations = [
      { clientId: "app-b", redirectUris: ["http://localhost:9000/cb"], name: "App B" },
      { clientId: "app-c", clientSecret: "C-SECRET", scopes: ["data.records:read"] },
    ];
    await withFile(JSON.stringify(integrations), async (file) => {
      const { out, err, io } = capture();
      const controller = new AbortController();
      const done = emulatorCommand(["--auto-approve", "--client-id", "app-a", "--integrations", file], {
        ...io,
        signal: controller.signal,
      });
      await expect.poll(() => out.length).toBe(1);
      const url = /listening on (\S+)$/.exec(out[0]!)![1]!;
      const summary = err.join("\n");
      expect(summary).toContain('app-b "App B" (public)');
      expect(summary).toContain('app-c "app-c" (confidential)');
      expect(summary).not.toContain("C-SECRET");
      const a = await loginAutoApproved(url, "data.records:read", { clientId: "app-a" });
      const b = await loginAutoApproved(url, "data.records:read", {
        clientId: "app-b",
        redirectUri: "http://localhost:9000/cb",
      });
      const c = await loginAutoApproved(url, "data.records:read", {
        clientId: "app-c",
        basic: `Basic ${Buffer.from("app-c:C-SECRET").toString("base64")}`,
      });
      for (const tokens of [a, b, c]) {
        expect((await api(url, "/v0/meta/whoami", tokens.access_token)).status).toBe(200);
      }
      controller.abort();
      expect(await done).toBe(0);
    });
  });

  it.each([
    ["a missing file", undefined, "cannot read the integrations file", "--integrations"],
    ["a file that is not JSON", "[nope", "is not valid JSON", "clientId"],
    ["not an array", '{"clientId": "x"}', "file: ", "JSON array"],
    ["snake_case keys", '[{"client_id": "x"}]', "[0]", "camelCase"],
    ["a client id that is not a string", '[{"clientId": 5}]', "[0].clientId", "camelCase"],
    [
      "a redirect URI Airtable refuses",
      '[{"clientId": "x", "redirectUris": ["http://example.com/cb"]}]',
      'integrations[0].redirectUris (client id "x")',
      "https",
    ],
    [
      "a duplicate client id",
      '[{"clientId": "airlock-emulator-client"}]',
      "integrations[0].clientId",
      "own client id",
    ],
  ])("%s → exit 5 with what is wrong and how to fix it", async (_what, content, message, hint) => {
    await withFile(content, async (file) => {
      const { out, err, io } = capture();
      expect(await emulatorCommand(["--integrations", file], io)).toBe(5);
      expect(out).toEqual([]);
      expect(err[0]).toContain(message);
      expect(err.join("\n")).toContain(hint);
      expect(err.join("\n")).not.toMatch(/\n\s+at /);
    });
  });

  it("--help documents --integrations and its format", async () => {
    const { out, io } = capture();
    await emulatorCommand(["--help"], io);
    const help = out.join("\n");
    for (const text of ["--integrations FILE", '"clientId": "app-b"', "camelCase", "?client_id="]) {
      expect(help).toContain(text);
    }
  });
});
