/**
 * Error bodies and their documentation, in-process (`app.request`, no sockets): every operation of
 * the OpenAPI document, sent a wrong content type, a malformed body or an oversized parameter,
 * answers HTML or the documented `{error: {code, message, hint}}`, never zod's own body; the
 * document declares the 415 and 429 answers where they now occur; the validation hook and Hono's
 * own refusals map to the right codes. (test/security/error-shapes.test.ts does the same over HTTP.)
 */
import { z } from "@hono/zod-openapi";
import { HTTPException } from "hono/http-exception";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SECRET_KEY, startTestService, type TestService } from "../../test/security/harness.js";
import { AirlockError, type AirlockErrorCode } from "../shared/errors.js";
import { fromHttpException, statusForCode, toAirlockError } from "./http-errors.js";
import { validationHook } from "./validation-hook.js";

type Operation = { requestBody?: unknown; responses?: Record<string, unknown> };
type Doc = { paths: Record<string, Record<string, Operation>> };

describe("every documented operation answers the documented error shape", () => {
  let t: TestService;
  let doc: Doc;

  beforeAll(async () => {
    t = await startTestService({ start: { keepAlive: false } });
    doc = (await (await t.service.app.request("/openapi.json")).json()) as Doc;
  });
  afterAll(async () => {
    await t?.close();
  });

  it("sweeps wrong content types, malformed bodies and oversized parameters", async () => {
    const bodies: Array<[string | undefined, string | undefined]> = [
      ["text/plain", "hello"],
      ["application/json", "{"],
      ["application/json", "[1,2"],
      ["application/xml", "<a/>"],
      [undefined, undefined],
    ];
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of Object.keys(item)) {
        for (const filler of ["nobody_here", "x".repeat(5000)]) {
          const target = path.replace(/\{[^}]+\}/g, (m) =>
            m === "{airtable_path}" ? "v0/meta/whoami" : filler,
          );
          for (const [type, body] of bodies) {
            const label = `${method} ${path} (${filler.length} chars) ${type ?? "no type"}`;
            const headers: Record<string, string> = { authorization: `Bearer ${SECRET_KEY}` };
            if (type) headers["content-type"] = type;
            const withBody = body !== undefined && method !== "get" && method !== "head";
            const res = await t.service.app.request(target, {
              method: method.toUpperCase(),
              headers,
              ...(withBody ? { body } : {}),
            });
            const text = await res.text();
            expect(text, label).not.toMatch(/ZodError|"success":false|"issues"/);
            expect(res.status, label).toBeLessThan(500);
            const contentType = res.headers.get("content-type") ?? "";
            if (res.status < 400 || contentType.startsWith("text/html")) continue;
            const parsed = JSON.parse(text) as { error: Record<string, unknown> };
            expect(Object.keys(parsed), label).toEqual(["error"]);
            expect(Object.keys(parsed.error).sort(), label).toEqual(
              Object.keys(parsed.error).includes("details")
                ? ["code", "details", "hint", "message"]
                : ["code", "hint", "message"],
            );
            expect(statusForCode(parsed.error.code as AirlockErrorCode), label).toBe(res.status);
            expect(String(parsed.error.hint).length, label).toBeGreaterThan(0);
          }
        }
      }
    }
  });

  it("documents 429 rate_limited on every /v1 operation and 415 where a JSON body is taken", () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const label = `${method} ${path}`;
        if (path.startsWith("/v1/")) {
          expect(Object.keys(op.responses ?? {}), label).toContain("429");
          expect(JSON.stringify(op.responses?.["429"]), label).toContain("rate_limited");
        }
        const takesJson = JSON.stringify(op.requestBody ?? {}).includes("application/json");
        if (takesJson && !path.startsWith("/v1/proxy/")) {
          expect(Object.keys(op.responses ?? {}), label).toContain("415");
        }
      }
    }
    expect(Object.keys(doc.paths["/login"]?.post?.responses ?? {})).toContain("429");
  });
});

describe("error mapping", () => {
  it("turns Hono's refusals into the codes and statuses they mean", () => {
    const cases: Array<[number, AirlockErrorCode, number]> = [
      [413, "payload_too_large", 413],
      [415, "unsupported_media_type", 415],
      [400, "invalid_input", 400],
      [405, "invalid_input", 400],
    ];
    for (const [status, code, answered] of cases) {
      const error = fromHttpException(new HTTPException(status as 400));
      expect(error.code).toBe(code);
      expect(statusForCode(error.code)).toBe(answered);
      expect(toAirlockError(new HTTPException(status as 400)).code).toBe(code);
    }
    expect(fromHttpException(new HTTPException(415)).hint).toContain("Content-Type: application/json");
    expect(fromHttpException(new HTTPException(400)).hint).toContain("Content-Type: application/json");
  });

  it("names the bad fields, or application/json when the JSON body was never sent", () => {
    const schema = z.object({ identifier: z.string() });
    const failed = schema.safeParse({});
    if (failed.success) throw new Error("expected a failure");
    const call = (contentType: string | undefined) => {
      const c = { req: { header: () => contentType } } as unknown as Parameters<typeof validationHook>[1];
      try {
        validationHook({ success: false, error: failed.error, target: "json" }, c);
      } catch (error) {
        if (error instanceof AirlockError) return error;
      }
      throw new Error("expected an AirlockError");
    };
    const missing = call(undefined);
    expect(missing.code).toBe("invalid_input");
    expect(missing.message).toContain("no JSON body");
    expect(missing.hint).toContain("Content-Type: application/json");
    const named = call("application/json; charset=utf-8");
    expect(named.message).toContain("identifier");
    expect(named.hint).toContain("GET /openapi.json");
    expect(validationHook({ success: true, target: "json" })).toBeUndefined();
  });
});
