/**
 * Acceptance (issue 8): the CLI's messages tell the truth on the paths a newcomer meets first:
 * doctor asks Airtable whether it knows the client, a redirect URI without a port or with https,
 * garbage pasted into `login --paste`, the closing hint of a named profile, a misspelt command,
 * and counts of one. Real `airlock` processes against the real emulator.
 */
import { readFileSync } from "node:fs";
import { chown } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  assertNoSecretsPrinted,
  cliTestbed,
  emulatorStats,
  listenOn,
  loginAutomatically,
  readCredentials,
  runCli,
  secrets,
  startCli,
} from "./support/cli.js";

afterAll(assertNoSecretsPrinted);

const CLI_REDIRECT = "http://localhost:8085/callback";

/** Lines of doctor's output with a given mark. */
const marked = (stdout: string, mark: "✓" | "!" | "✗") =>
  stdout.split("\n").filter((line) => line.startsWith(`${mark} `));

describe("airlock doctor asks the token endpoint whether it knows the client", () => {
  const s = cliTestbed({ per: "suite", leakCheck: false });
  beforeAll(async () => {
    expect((await loginAutomatically(s)).code).toBe(0);
  });

  it("a registered client id passes, says what was sent, and touches no real code or token", async () => {
    const credentials = await readCredentials(s.home);
    const before = await emulatorStats(s.emulator);
    const result = await runCli(["doctor"], { env: s.env });
    expect(result.code, result.stdout).toBe(0);
    const line = marked(result.stdout, "✓").find((l) => /client id/.test(l));
    expect(line, result.stdout).toMatch(/Airtable knows this client id/);
    // What doctor did: one authorization_code request with a made-up code, and Airtable's answer.
    expect(line).toMatch(/dummy authorization code/);
    expect(line).toMatch(/invalid_grant/);
    const after = await emulatorStats(s.emulator);
    expect(after.invalid_grants).toBe(before.invalid_grants! + 1);
    expect(after.invalid_clients).toBe(before.invalid_clients);
    expect(after.code_exchanges).toBe(before.code_exchanges);
    expect(after.refreshes).toBe(before.refreshes);
    // The stored login is untouched and still works.
    expect((await readCredentials(s.home)).refreshToken).toBe(credentials.refreshToken);
    expect((await runCli(["whoami"], { env: s.env })).code).toBe(0);
  });

  it("an unknown client id is ✗ 'Airtable does not know this client id'", async () => {
    const before = await emulatorStats(s.emulator);
    const result = await runCli(["doctor"], {
      env: { ...s.env, AIRTABLE_CLIENT_ID: "someone-elses-integration" },
    });
    expect(result.code, result.stdout).toBe(1);
    const line = marked(result.stdout, "✗").find((l) => /client id/.test(l));
    expect(line, result.stdout).toMatch(/Airtable does not know this client id/);
    expect(line).toMatch(/invalid_client/);
    expect(result.stdout).toContain("airtable.com/create/oauth");
    expect((await emulatorStats(s.emulator)).invalid_clients).toBe(before.invalid_clients! + 1);
  });

  describe("a confidential client", () => {
    const secret = "doctor-right-client-secret-0123456789";
    const c = cliTestbed({ per: "suite", leakCheck: false, secret });

    it("the right secret passes", async () => {
      const result = await runCli(["doctor"], { env: c.env });
      expect(result.code, result.stdout).toBe(0);
      expect(marked(result.stdout, "✓").join("\n")).toMatch(
        /Airtable knows this client id and accepts the client secret/,
      );
    });

    it("a secret that does not match is ✗, without printing either secret", async () => {
      const wrong = "doctor-wrong-client-secret-9876543210";
      secrets.add(wrong);
      const result = await runCli(["doctor"], { env: { ...c.env, AIRTABLE_CLIENT_SECRET: wrong } });
      expect(result.code, result.stdout).toBe(1);
      expect(marked(result.stdout, "✗").join("\n")).toMatch(/client secret does not match/);
    });

    it("a missing secret is ✗ and names AIRTABLE_CLIENT_SECRET", async () => {
      const { AIRTABLE_CLIENT_SECRET: _secret, ...env } = c.env;
      const result = await runCli(["doctor"], { env });
      expect(result.code, result.stdout).toBe(1);
      const line = marked(result.stdout, "✗").find((l) => /client id/.test(l));
      expect(line, result.stdout).toMatch(/Airtable does not know this client id/);
      expect(result.stdout).toMatch(/→ .*set AIRTABLE_CLIENT_SECRET/);
    });
  });
});

/** Linux refuses ports below this one to unprivileged users (EACCES). */
function firstUnprivilegedPort(): number {
  try {
    return Number(readFileSync("/proc/sys/net/ipv4/ip_unprivileged_port_start", "utf8").trim());
  } catch {
    return 0;
  }
}
const isRoot = process.getuid?.() === 0;
/** Port 80 gives EACCES to an ordinary user here (as root, the test runs the CLI as nobody). */
const port80IsPrivileged = process.platform === "linux" && firstUnprivilegedPort() > 80;
const NOBODY = { uid: 65534, gid: 65534 };

describe("the redirect URI as the CLI sees it", () => {
  const s = cliTestbed({ leakCheck: false });

  /** The environment and user of an ordinary (non-root) account. */
  async function asOrdinaryUser(redirectUri: string) {
    if (isRoot) await chown(s.home, NOBODY.uid, NOBODY.gid);
    return {
      env: { ...s.env, AIRTABLE_REDIRECT_URI: redirectUri },
      ...(isRoot ? { user: NOBODY } : {}),
    };
  }

  it.runIf(port80IsPrivileged)(
    "no port means port 80: login says so, blames permissions (not another program), names 8085",
    async () => {
      const result = await runCli(
        ["login", "--no-browser"],
        await asOrdinaryUser("http://localhost/callback"),
      );
      expect(result.code, result.stderr).toBe(5);
      expect(result.stderr).toMatch(/has no port, so it means port 80/);
      expect(result.stderr).toMatch(/permission denied/);
      expect(result.stderr).toContain(`register ${CLI_REDIRECT}`);
      expect(result.stderr).not.toMatch(/another program|Stop the program|in use/);
      // It failed before sending anyone to Airtable.
      expect(result.stderr).not.toContain("/oauth2/v1/authorize");
    },
  );

  it.runIf(port80IsPrivileged)(
    "no port means port 80: doctor says the same, and reports the permission error as one",
    async () => {
      const result = await runCli(["doctor", "--offline"], await asOrdinaryUser("http://localhost/callback"));
      expect(result.code, result.stdout).toBe(1);
      expect(marked(result.stdout, "✗").join("\n")).toMatch(/Port 80 .*permission denied/);
      expect(result.stdout).toMatch(/→ .*has no port, so it means port 80/);
      expect(result.stdout).toContain(`register ${CLI_REDIRECT}`);
      expect(result.stdout).not.toMatch(/another program|Stop the program|in use/);
    },
  );

  it.runIf(isRoot)("as root (port 80 opens), doctor still warns that no port means port 80", async () => {
    const result = await runCli(["doctor", "--offline"], {
      env: { ...s.env, AIRTABLE_REDIRECT_URI: "http://localhost/callback" },
    });
    expect(marked(result.stdout, "!").join("\n")).toMatch(/has no port, so it means port 80/);
    expect(result.stdout).toContain(`register ${CLI_REDIRECT}`);
    const login = await runCli(["login", "--no-browser", "--timeout", "1"], {
      env: { ...s.env, AIRTABLE_REDIRECT_URI: "http://localhost/callback" },
    });
    expect(login.stderr).toMatch(
      /^warning: .*has no port, so it means port 80.*register http:\/\/localhost:8085\/callback/m,
    );
  });

  it("a busy port is still 'in use by another program' in doctor", async () => {
    const blocker = await listenOn(s.port);
    try {
      const result = await runCli(["doctor", "--offline"], { env: s.env });
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(
        new RegExp(`✗ Port ${s.port} on 127\\.0\\.0\\.1 is in use by another program`),
      );
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it("https://localhost gets the same verdict from doctor as from login", async () => {
    const env = { ...s.env, AIRTABLE_REDIRECT_URI: `https://localhost:${s.port}/callback` };
    const login = await runCli(["login", "--no-browser"], { env });
    expect(login.code, login.stderr).toBe(5);
    const verdict = /^error: (.+)$/m.exec(login.stderr)?.[1];
    expect(verdict, login.stderr).toMatch(/cannot receive/);
    const doctor = await runCli(["doctor", "--offline"], { env });
    expect(doctor.code, doctor.stdout).toBe(1);
    expect(marked(doctor.stdout, "✗")).toContain(`✗ ${verdict}`);
  });
});

describe("airlock login: what it says back", () => {
  const s = cliTestbed({ leakCheck: false });

  it("--paste with garbage says what was expected, without echoing the paste", async () => {
    const pasted = "pat-not-a-url-but-a-secret-4f9c2e7a1b";
    secrets.add(pasted);
    const result = await runCli(["login", "--paste"], { env: s.env, stdin: `${pasted}\n` });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/not the URL the browser landed on/);
    expect(result.stderr).toContain(`${s.redirectUri}?code=…&state=…`);
    expect((await emulatorStats(s.emulator)).code_exchanges).toBe(0);
  });

  it("--paste with the authorize URL itself says to open it and paste where the browser lands", async () => {
    const cli = startCli(["login", "--paste"], { env: s.env });
    const authorizeUrl = await cli.authorizeUrl();
    await cli.waitForStderr(/paste it here/i);
    cli.child.stdin.end(`${authorizeUrl.href}\n`);
    const result = await cli.done;
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toMatch(/That is the authorize URL/);
    expect(result.stderr).toContain(`${s.redirectUri}?code=…&state=…`);
    expect((await emulatorStats(s.emulator)).code_exchanges).toBe(0);
  });

  it("after login --profile nb, the hint is `airlock token --profile nb`", async () => {
    const result = await loginAutomatically(s, ["--profile", "nb"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("Get a token with `airlock token --profile nb`.");
    await readCredentials(s.home, "nb");
    const again = await runCli(["login", "--no-browser", "--profile", "nb"], { env: s.env });
    expect(again.stderr).toContain("`airlock login --profile nb --force`");
  });
});

describe("command line wording", () => {
  const s = cliTestbed({ per: "suite", leakCheck: false });
  beforeAll(async () => {
    expect((await loginAutomatically(s)).code).toBe(0);
  });

  it("a misspelt command gets a did-you-mean; a far-off one does not", async () => {
    const typo = await runCli(["tokn"], { env: s.env });
    expect(typo.code).toBe(2);
    expect(typo.stdout).toBe("");
    expect(typo.stderr).toContain('Unknown command "tokn". Did you mean `airlock token`?');
    const far = await runCli(["frobnicate"], { env: s.env });
    expect(far.code).toBe(2);
    expect(far.stderr).not.toMatch(/Did you mean/);
  });

  it("counts of one are singular: 1 view, not 1 views", async () => {
    const { bases } = JSON.parse((await runCli(["bases", "--json"], { env: s.env })).stdout) as {
      bases: { id: string }[];
    };
    let sawOne = false;
    for (const base of bases) {
      const result = await runCli(["tables", base.id], { env: s.env });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).not.toMatch(/\b1 (views|fields|tables|bases)\b/);
      sawOne ||= /\b1 view\b/.test(result.stdout);
    }
    expect(sawOne).toBe(true);
  });
});
