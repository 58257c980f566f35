import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { AirlockError, isAirlockError } from "./errors.js";
import { createLogger, type LogFormat, logFormat } from "./log.js";

function capture(format?: LogFormat) {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      done();
    },
  });
  return { lines, logger: createLogger({ level: "debug", stream, ...(format ? { format } : {}) }) };
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

describe("logFormat", () => {
  it("is pretty on a terminal and JSON otherwise; AIRLOCK_LOG_FORMAT overrides either way", () => {
    expect(logFormat({}, true)).toBe("pretty");
    expect(logFormat({}, false)).toBe("json");
    expect(logFormat({ AIRLOCK_LOG_FORMAT: "json" }, true)).toBe("json");
    expect(logFormat({ AIRLOCK_LOG_FORMAT: " Pretty " }, false)).toBe("pretty");
    expect(logFormat({ AIRLOCK_LOG_FORMAT: "" }, true)).toBe("pretty");
  });

  it("refuses an unknown AIRLOCK_LOG_FORMAT with the accepted values", () => {
    let caught: unknown;
    try {
      logFormat({ AIRLOCK_LOG_FORMAT: "text" }, true);
    } catch (error) {
      caught = error;
    }
    expect(isAirlockError(caught, "config_invalid")).toBe(true);
    expect((caught as AirlockError).message).toContain("AIRLOCK_LOG_FORMAT");
    expect((caught as AirlockError).hint).toContain("AIRLOCK_LOG_FORMAT=json");
  });
});

describe("createLogger, pretty", () => {
  it("writes one human-readable line per entry, a request as method, path, status and duration", () => {
    const { lines, logger } = capture("pretty");
    logger.info({ url: "http://localhost:4000", store: "sqlite" }, "airlock service started");
    logger
      .child({ requestId: "req-1" })
      .info({ method: "GET", path: "/healthz", status: 200, durationMs: 1.5 }, "request");
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(() => JSON.parse(line)).toThrow();
    expect(lines[0]).toMatch(/^\[\d{2}:\d{2}:\d{2}\.\d{3}\] INFO: airlock service started /);
    expect(lines[0]).toContain('"url":"http://localhost:4000"');
    expect(lines[1]).toMatch(/INFO: GET \/healthz 200 1\.5 ms/);
    expect(lines[1]).toContain('"requestId":"req-1"');
    expect(lines[1]).not.toContain('"method"');
  });

  it("redacts secrets and keeps error codes, as the JSON lines do", () => {
    const { lines, logger } = capture("pretty");
    logger.warn(
      { access_token: "at-secret", err: Object.assign(new Error("disk full"), { code: "SQLITE_FULL" }) },
      "store failed",
    );
    const text = lines.join("\n");
    expect(text).not.toContain("at-secret");
    expect(text).toContain("[redacted]");
    expect(text).toContain("SQLITE_FULL");
    expect(text).toMatch(/WARN: store failed/);
  });
});
