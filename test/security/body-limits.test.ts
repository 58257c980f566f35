/**
 * Oversized bodies get 413 `payload_too_large`: by Content-Length before anything else, and while
 * streaming when there is none (chunked) or it lies. Small bodies pass through intact.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RecordingServer } from "../support/recording-server.js";
import {
  auth,
  seedServiceConnection,
  startServiceWithUpstream,
  startTestService,
  type TestService,
} from "./harness.js";

/** A body delivered in chunks without Content-Length (Transfer-Encoding: chunked). */
function chunked(totalBytes: number, chunkBytes = 64 * 1024): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= totalBytes) {
        controller.close();
        return;
      }
      const size = Math.min(chunkBytes, totalBytes - sent);
      sent += size;
      controller.enqueue(new Uint8Array(size).fill(120));
    },
  });
}

async function post(
  url: string,
  body: string | Buffer | ReadableStream<Uint8Array>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json", ...headers },
    body,
    duplex: "half",
  } as RequestInit);
}

describe("request body limits", () => {
  const MAX = 2 * 1024 * 1024;
  let t: TestService;
  let upstream: RecordingServer;

  beforeAll(async () => {
    ({ t, upstream } = await startServiceWithUpstream(
      (req) => ({ status: 200, body: { bytes: Buffer.byteLength(req.body) } }),
      { clientId: "client_limits", env: { AIRLOCK_PROXY_MAX_BODY: String(MAX) } },
    ));
    await seedServiceConnection(t, "bulk", "tok_bulk_access");
  });
  afterAll(async () => {
    await t?.close();
    await upstream?.close();
  });

  const proxyUrl = () => `${t.url}/v1/proxy/bulk/v0/appAAAAAAAAAAAAAA/Table`;

  it("refuses a declared Content-Length over the limit before calling upstream", async () => {
    const res = await post(proxyUrl(), Buffer.alloc(MAX + 1, 120));
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string; hint: string } }).error).toMatchObject({
      code: "payload_too_large",
    });
    expect(upstream.requests).toHaveLength(0);
  });

  it("refuses a small chunked body over a small limit before calling upstream", async () => {
    const small = await startTestService({
      env: {
        AIRTABLE_CLIENT_ID: "client_limits",
        AIRTABLE_OAUTH_URL: upstream.url,
        AIRTABLE_API_URL: upstream.url,
        AIRLOCK_PROXY_MAX_BODY: "1024",
      },
    });
    try {
      await seedServiceConnection(small, "bulk", "tok_small");
      const res = await post(`${small.url}/v1/proxy/bulk/v0/appAAAAAAAAAAAAAA/Table`, chunked(4096, 512));
      expect(res.status).toBe(413);
      expect(upstream.requests).toHaveLength(0);
      const ok = await post(`${small.url}/v1/proxy/bulk/v0/appAAAAAAAAAAAAAA/Table`, chunked(1024, 256));
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ bytes: 1024 });
      upstream.requests.length = 0;
    } finally {
      await small.close();
    }
  });

  it("stops a large chunked body while streaming it (413), never completing an upstream request", async () => {
    const res = await post(proxyUrl(), chunked(MAX + 256 * 1024));
    expect(res.status).toBe(413);
    // The recording server only records requests whose body ended: the truncated one never did.
    expect(upstream.requests).toHaveLength(0);
  });

  it("streams a large body under the limit through intact", async () => {
    const size = MAX - 1000;
    const res = await post(proxyUrl(), chunked(size));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ bytes: size });
    const withLength = await post(proxyUrl(), Buffer.alloc(MAX, 121));
    expect(withLength.status).toBe(200);
    expect(await withLength.json()).toEqual({ bytes: MAX });
  });

  it("limits the JSON API's bodies too", async () => {
    const res = await post(
      `${t.url}/v1/connect-sessions`,
      JSON.stringify({ identifier: "x", pad: "y".repeat(100_000) }),
    );
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("payload_too_large");
  });
});
