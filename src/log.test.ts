import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { AirlockError } from "./errors.js";
import { createLogger } from "./log.js";

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      done();
    },
  });
  return { lines, logger: createLogger({ level: "debug", stream }) };
}

describe("createLogger", () => {
  it("keeps error codes: a driver's err.code, an AirlockError's code, a bare code field", () => {
    const { lines, logger } = capture();
    const sqlite = Object.assign(new Error("database or disk is full"), { code: "SQLITE_FULL" });
    logger.warn({ err: sqlite }, "store failed");
    logger.warn(
      { err: new AirlockError("transient", "The database is unavailable (disk full).", { cause: sqlite }) },
      "request failed",
    );
    logger.error({ code: "internal" }, "bug");
    const [first, second, third] = lines.map(
      (line) => JSON.parse(line) as Record<string, Record<string, unknown>>,
    );
    expect(first?.err?.code).toBe("SQLITE_FULL");
    expect(second?.err?.code).toBe("transient");
    expect(third?.code).toBe("internal");
  });

  it("still blanks secret fields at every depth we log", () => {
    const { lines, logger } = capture();
    logger.info(
      {
        access_token: "at-secret",
        tokens: { refreshToken: "rt-secret", nested: { code_verifier: "cv-secret" } },
        client_secret: "cs-secret",
      },
      "tokens",
    );
    const text = lines.join("\n");
    for (const secret of ["at-secret", "rt-secret", "cv-secret", "cs-secret"])
      expect(text).not.toContain(secret);
    expect(text).toContain("[redacted]");
  });
});
