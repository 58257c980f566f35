/**
 * Every error the service answers in JSON is the documented `{error: {code, message, hint}}`: the
 * sweep sends every operation of `GET /openapi.json` a wrong content type, a malformed body, a body
 * without a content type and an oversized path parameter, and checks each answer's shape (no raw
 * ZodError, no bare `{success: false}`). The wording a newcomer meets is checked too: a wrong
 * content type is 415 naming `application/json`, a missing one names it as well, an Authorization
 * header that is not a Bearer token says so, and a foreign `return_url` names
 * AIRLOCK_ALLOWED_RETURN_ORIGINS.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { statusForCode } from "../../src/server/http-errors.js";
import type { AirlockErrorCode } from "../../src/shared/errors.js";
import { auth, type RawResponse, rawRequest, startTestService, type TestService } from "./harness.js";

type Doc = { paths: Record<string, Record<string, unknown>> };

/** A value for each path parameter: nothing that exists, so no request changes anything. */
const PARAMS: Record<string, string> = {
  identifier: "no_such_connection",
  airtable_path: "v0/meta/whoami",
  token: "not-a-connect-token",
  path: "nothing-here",
};

const VARIANTS: Array<{ name: string; headers: Record<string, string>; body?: string }> = [
  { name: "wrong content type", headers: { "content-type": "text/plain" }, body: "identifier=x" },
  {
    name: "form content type",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: "a=1",
  },
  { name: "malformed JSON", headers: { "content-type": "application/json" }, body: '{"identifier": ' },
  { name: "JSON that is not an object", headers: { "content-type": "application/json" }, body: '"x"' },
  { name: "body without a content type", headers: {}, body: '{"identifier":"x"}' },
  { name: "no body, no content type", headers: {} },
];

/** Throws unless `res` is an HTML page or the documented error body with a status matching its code. */
function expectDocumentedShape(res: RawResponse, label: string): void {
  expect(res.body, label).not.toMatch(/ZodError|"issues"|"success"\s*:\s*false/);
  const type = String(res.headers["content-type"] ?? "");
  if (res.status < 400 || type.startsWith("text/html")) return;
  if (res.status === 429 && !type.includes("json")) return; // Airtable's own 429 through the proxy
  expect(type, label).toContain("application/json");
  const body = JSON.parse(res.body) as Record<string, unknown>;
  expect(Object.keys(body), label).toEqual(["error"]);
  const error = body.error as Record<string, unknown>;
  expect(typeof error.code, label).toBe("string");
  expect(typeof error.message, label).toBe("string");
  expect(String(error.message).length, label).toBeGreaterThan(0);
  expect(typeof error.hint, label).toBe("string");
  expect(String(error.hint).length, label).toBeGreaterThan(0);
  expect(statusForCode(error.code as AirlockErrorCode), label).toBe(res.status);
}

describe("error bodies", () => {
  let t: TestService;
  let doc: Doc;

  beforeAll(async () => {
    t = await startTestService({ start: { keepAlive: false } });
    doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as Doc;
  });
  afterAll(async () => {
    await t?.close();
  });

  it("sweeps every documented operation with wrong and malformed bodies", async () => {
    let checked = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of Object.keys(item)) {
        for (const params of [
          PARAMS,
          { ...PARAMS, identifier: "x".repeat(300), token: "t".repeat(10_000) },
        ]) {
          const target = path.replace(/\{([^}]+)\}/g, (_m, name: string) => params[name] ?? "x");
          for (const variant of VARIANTS) {
            const label = `${method.toUpperCase()} ${path} (${target.slice(0, 60)}…): ${variant.name}`;
            const res = await rawRequest(t.url, target, {
              method: method.toUpperCase(),
              headers: { ...auth, ...variant.headers },
              ...(variant.body === undefined ? {} : { body: variant.body }),
            });
            expect(res.status, label).toBeLessThan(500);
            expectDocumentedShape(res, label);
            checked++;
          }
        }
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it("answers a wrong content type with 415 naming application/json", async () => {
    for (const type of [
      "text/plain",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
    ]) {
      const res = await rawRequest(t.url, "/v1/connect-sessions", {
        method: "POST",
        headers: { ...auth, "content-type": type },
        body: '{"identifier":"user_1"}',
      });
      expect(res.status, type).toBe(415);
      const { error } = JSON.parse(res.body) as { error: { code: string; hint: string } };
      expect(error.code).toBe("unsupported_media_type");
      expect(error.hint).toContain("Content-Type: application/json");
    }
  });

  it("names application/json when the content type is missing or the JSON is malformed", async () => {
    for (const [label, headers, body] of [
      ["no body", {}, undefined],
      ["a body without content type", {}, '{"identifier":"user_1"}'],
      ["malformed JSON", { "content-type": "application/json" }, '{"identifier":'],
    ] as const) {
      const res = await rawRequest(t.url, "/v1/connect-sessions", {
        method: "POST",
        headers: { ...auth, ...headers },
        ...(body === undefined ? {} : { body }),
      });
      expect(res.status, label).toBeGreaterThanOrEqual(400);
      const { error } = JSON.parse(res.body) as { error: { hint: string } };
      expect(error.hint, label).toContain("application/json");
    }
  });

  it("answers an oversized connect token with the documented body, not a ZodError", async () => {
    const res = await rawRequest(t.url, `/connect/${"a".repeat(10_000)}`);
    expect(res.body).not.toContain("ZodError");
    expectDocumentedShape(res, "/connect/<10 KB>");
    expect(res.status).toBeGreaterThanOrEqual(400);
  });

  it("tells a non-Bearer Authorization header the expected form", async () => {
    for (const authorization of ["Basic dXNlcjpwYXNz", "Token abc", "abc", "Bearer", "Bearer a b"]) {
      const res = await rawRequest(t.url, "/v1/connections", { headers: { authorization } });
      expect(res.status).toBe(401);
      const { error } = JSON.parse(res.body) as { error: { message: string; hint: string } };
      expect(error.message, authorization).not.toContain("The secret key is wrong");
      expect(error.hint, authorization).toContain("Authorization: Bearer <AIRLOCK_SECRET_KEY>");
    }
    const wrong = await rawRequest(t.url, "/v1/connections", { headers: { authorization: "Bearer nope" } });
    expect((JSON.parse(wrong.body) as { error: { message: string } }).error.message).toBe(
      "The secret key is wrong.",
    );
  });

  it("names AIRLOCK_ALLOWED_RETURN_ORIGINS when return_url is on a foreign origin", async () => {
    const res = await t.api("/v1/connect-sessions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ identifier: "user_1", return_url: "https://elsewhere.example/done" }),
    });
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { message: string; hint: string } };
    expect(error.message).toContain("https://elsewhere.example");
    expect(error.message).toContain("AIRLOCK_ALLOWED_RETURN_ORIGINS");
    expect(error.hint).toContain("AIRLOCK_ALLOWED_RETURN_ORIGINS=https://elsewhere.example");
  });
});
