import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { failure } from "../../test/support/airlock-error.js";
import {
  type CraftedResponse,
  type RecordedRequest,
  type RecordingServer,
  startRecordingServer,
} from "../../test/support/recording-server.js";
import { AirtableApi, retryAfterMs } from "./api.js";

const BASE = "appABCDEFGHIJKLMN";
const TOKEN = "access-token-SECRET-123";

let server: RecordingServer;
let answer: (req: RecordedRequest, index: number) => CraftedResponse;
let slept: number[];

beforeEach(async () => {
  slept = [];
  answer = () => ({ status: 500 });
  server = await startRecordingServer((req, i) => answer(req, i));
});
afterEach(() => server.close());

function api(options: Partial<ConstructorParameters<typeof AirtableApi>[0]> = {}) {
  return new AirtableApi({
    accessToken: TOKEN,
    apiUrl: server.url,
    sleep: async (ms) => {
      slept.push(ms);
    },
    ...options,
  });
}

const query = (req: RecordedRequest) => new URL(req.url, "http://x").searchParams;

describe("AirtableApi", () => {
  it("whoami sends the Bearer token and returns id, scopes, email", async () => {
    answer = () => ({
      status: 200,
      body: { id: "usrABCDEFGHIJKLMN", scopes: ["data.records:read"], email: "a@b.c" },
    });
    expect(await api().whoami()).toEqual({
      id: "usrABCDEFGHIJKLMN",
      scopes: ["data.records:read"],
      email: "a@b.c",
    });
    expect(server.requests[0]).toMatchObject({ method: "GET", url: "/v0/meta/whoami" });
    expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it("listBases follows offset through every page", async () => {
    answer = (req) => {
      const offset = query(req).get("offset");
      if (!offset)
        return {
          status: 200,
          body: { bases: [{ id: "app1", name: "A", permissionLevel: "create" }], offset: "o1" },
        };
      if (offset === "o1")
        return {
          status: 200,
          body: { bases: [{ id: "app2", name: "B", permissionLevel: "read" }], offset: "o2" },
        };
      return { status: 200, body: { bases: [{ id: "app3", name: "C", permissionLevel: "comment" }] } };
    };
    const bases = await api().listBases();
    expect(bases.map((b) => b.id)).toEqual(["app1", "app2", "app3"]);
    expect(server.requests.map((r) => query(r).get("offset"))).toEqual([null, "o1", "o2"]);
  });

  it("getBaseSchema returns tables with fields and views, and validates the base id first", async () => {
    const tables = [
      {
        id: "tblABCDEFGHIJKLMN",
        name: "Tasks",
        primaryFieldId: "fldABCDEFGHIJKLMN",
        fields: [{ id: "fldABCDEFGHIJKLMN", name: "Name", type: "singleLineText" }],
        views: [{ id: "viwABCDEFGHIJKLMN", name: "Grid view", type: "grid" }],
      },
    ];
    answer = () => ({ status: 200, body: { tables } });
    expect((await api().getBaseSchema(BASE)).tables).toEqual(tables);
    expect(server.requests[0]!.url).toBe(`/v0/meta/bases/${BASE}/tables`);
    const err = await failure(api().getBaseSchema("../../v0/meta/whoami"));
    expect(err.code).toBe("invalid_input");
    expect(server.requests).toHaveLength(1);
  });

  it("listRecords pages through with pageSize, view and maxRecords", async () => {
    answer = (req) => {
      const offset = query(req).get("offset");
      const page = offset ? 2 : 1;
      return {
        status: 200,
        body: {
          records: [1, 2].map((n) => ({
            id: `rec${page}${n}`,
            createdTime: "2026-01-01T00:00:00.000Z",
            fields: { n },
          })),
          ...(page === 1 ? { offset: "next" } : {}),
        },
      };
    };
    const all = await api().listRecords(BASE, "My Tasks", { pageSize: 2, view: "Grid view" });
    expect(all.map((r) => r.id)).toEqual(["rec11", "rec12", "rec21", "rec22"]);
    expect(server.requests[0]!.url.startsWith(`/v0/${BASE}/My%20Tasks?`)).toBe(true);
    expect(query(server.requests[0]!).get("pageSize")).toBe("2");
    expect(query(server.requests[0]!).get("view")).toBe("Grid view");
    expect(query(server.requests[1]!).get("offset")).toBe("next");

    server.requests.length = 0;
    const some = await api().listRecords(BASE, "tblABCDEFGHIJKLMN", { maxRecords: 1 });
    expect(some.map((r) => r.id)).toEqual(["rec11"]);
    expect(server.requests).toHaveLength(1);
    expect(query(server.requests[0]!).get("maxRecords")).toBe("1");

    for (const bad of [{ pageSize: 101 }, { pageSize: 0 }, { maxRecords: -1 }]) {
      expect((await failure(api().listRecords(BASE, "T", bad))).code).toBe("invalid_input");
    }
    expect((await failure(api().listRecords(BASE, ""))).code).toBe("invalid_input");
  });

  it("maps both error shapes to api_error with status and type", async () => {
    answer = () => ({ status: 404, body: { error: "NOT_FOUND" } });
    let err = await failure(api().getBaseSchema(BASE));
    expect(err.code).toBe("api_error");
    expect(err.details).toEqual({ status: 404, type: "NOT_FOUND" });
    expect(err.hint).toMatch(/listBases\(\)/);

    answer = () => ({
      status: 422,
      body: {
        error: { type: "INVALID_REQUEST_UNKNOWN", message: "Invalid request: parameter validation failed" },
      },
    });
    err = await failure(api().listRecords(BASE, "Tasks"));
    expect(err.details).toEqual({ status: 422, type: "INVALID_REQUEST_UNKNOWN" });
    expect(err.message).toContain("parameter validation failed");
  });

  it("403 names the scope the call needs", async () => {
    answer = () => ({
      status: 403,
      body: { error: { type: "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND", message: "Invalid permissions" } },
    });
    expect((await failure(api().listRecords(BASE, "Tasks"))).hint).toMatch(/data\.records:read/);
    expect((await failure(api().listBases())).hint).toMatch(/schema\.bases:read/);
    expect((await failure(api().getBaseSchema(BASE))).hint).toMatch(/not granted/);
  });

  it("401 with a static token → api_error with re-login hint; never echoes the token", async () => {
    answer = () => ({
      status: 401,
      body: { error: { type: "AUTHENTICATION_REQUIRED", message: "Authentication required" } },
    });
    const err = await failure(api().whoami());
    expect(err.code).toBe("api_error");
    expect(err.details).toEqual({ status: 401, type: "AUTHENTICATION_REQUIRED" });
    expect(err.hint).toMatch(/must authorize again/);
    expect(err.hint).not.toMatch(/airlock/);
    expect(JSON.stringify(err.toJSON())).not.toContain(TOKEN);
    expect(server.requests).toHaveLength(1);
  });

  it("401 with a token function → asks for a forced refresh and retries once", async () => {
    const calls: unknown[] = [];
    const source = async (options?: { forceRefresh?: boolean }) => {
      calls.push(options);
      return options?.forceRefresh ? "fresh-token" : "stale-token";
    };
    answer = (req) =>
      req.headers.authorization === "Bearer fresh-token"
        ? { status: 200, body: { id: "usrABCDEFGHIJKLMN" } }
        : { status: 401, body: { error: { type: "AUTHENTICATION_REQUIRED", message: "x" } } };
    expect(await api({ accessToken: source }).whoami()).toEqual({ id: "usrABCDEFGHIJKLMN" });
    expect(calls).toEqual([undefined, { forceRefresh: true }]);

    answer = () => ({ status: 401, body: { error: { type: "AUTHENTICATION_REQUIRED", message: "x" } } });
    server.requests.length = 0;
    expect((await failure(api({ accessToken: source }).whoami())).details).toMatchObject({ status: 401 });
    expect(server.requests).toHaveLength(2);
  });

  it("429 without Retry-After waits 30 s, with Retry-After waits that long, then succeeds", async () => {
    answer = (_req, i) =>
      i === 0
        ? { status: 429, body: { error: { type: "RATE_LIMIT_REACHED", message: "slow down" } } }
        : i === 1
          ? { status: 503, headers: { "retry-after": "2" }, body: { error: "RETRIABLE_ERROR" } }
          : { status: 200, body: { id: "usrABCDEFGHIJKLMN" } };
    expect(await api().whoami()).toEqual({ id: "usrABCDEFGHIJKLMN" });
    expect(slept).toEqual([30_000, 2_000]);
    expect(server.requests).toHaveLength(3);
  });

  it("gives up with rate_limited once the wait budget is spent", async () => {
    answer = () => ({ status: 429, body: { error: { type: "RATE_LIMIT_REACHED", message: "slow down" } } });
    const err = await failure(api({ maxRateLimitWaitMs: 65_000 }).whoami());
    expect(err.code).toBe("rate_limited");
    expect(err.retryable).toBe(true);
    expect(slept).toEqual([30_000, 30_000]);
    expect(server.requests).toHaveLength(3);

    slept = [];
    answer = () => ({ status: 503, body: { error: "RETRIABLE_ERROR" } });
    const unavailable = await failure(api({ maxRateLimitWaitMs: 0 }).whoami());
    expect(unavailable.code).toBe("transient");
    expect(slept).toEqual([]);
  });

  it("paces requests to one base at 5 per second, counted from each answer; other bases are not held back", async () => {
    answer = () => ({ status: 200, body: { tables: [] } });
    let clock = 1_000_000;
    const client = api({
      now: () => clock,
      sleep: async (ms) => {
        slept.push(ms);
        clock += ms;
      },
    });
    for (let i = 0; i < 5; i++) await client.getBaseSchema(BASE);
    expect(slept).toEqual([]);
    await client.getBaseSchema("appOTHERBASE00000");
    expect(slept).toEqual([]);
    await client.getBaseSchema(BASE);
    expect(slept).toEqual([1050]);
    expect(server.requests).toHaveLength(7);
  });

  it("network errors and timeouts → transient", async () => {
    answer = () => ({ drop: true });
    expect((await failure(api().whoami())).code).toBe("transient");
    answer = () => ({ hang: true });
    const err = await failure(api({ timeoutMs: 150 }).whoami());
    expect(err.code).toBe("transient");
    expect(err.message).toMatch(/timed out/);
  });

  it("an unexpected 200 body → api_error", async () => {
    answer = () => ({ status: 200, body: "<html>login page</html>" });
    expect((await failure(api().whoami())).details).toMatchObject({ type: "UNEXPECTED_RESPONSE" });
  });

  it("parses Retry-After seconds and dates", () => {
    expect(retryAfterMs("7")).toBe(7000);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(retryAfterMs("soon")).toBeUndefined();
    expect(retryAfterMs(null)).toBeUndefined();
  });
});

describe("AirtableApi's URL", () => {
  it("without apiUrl it calls https://api.airtable.com, and a failure says so instead of blaming AIRTABLE_API_URL", async () => {
    const calls: string[] = [];
    const refused: typeof fetch = async (input) => {
      calls.push(String(input));
      throw new TypeError("fetch failed");
    };
    const error = await failure(new AirtableApi({ accessToken: TOKEN, fetch: refused }).whoami());
    expect(error.code).toBe("transient");
    expect(calls).toEqual(["https://api.airtable.com/v0/meta/whoami"]);
    expect(error.message).toContain("https://api.airtable.com/v0/meta/whoami");
    expect(error.hint).toMatch(/No apiUrl was given/);
    expect(error.hint).toMatch(/apiUrl: config\.apiUrl/);
  });

  it("with apiUrl (e.g. config.apiUrl from AIRTABLE_API_URL) the message names that URL", async () => {
    answer = () => ({ status: 200, body: "not json" });
    const error = await failure(api().whoami());
    expect(error.code).toBe("api_error");
    expect(error.message).toContain(`${server.url}/v0/meta/whoami`);
    expect(error.hint).toContain(server.url);
  });
});
