import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "./index.js";
import { api, authorizeUrl, loginAutoApproved, pkcePair, postToken, visit } from "./testing.js";

const REDIRECT = "http://localhost:8085/callback";
const CLIENT = "airlock-emulator-client";

let pub: RunningEmulator;
let conf: RunningEmulator;
const SECRET = "s3cret+/=";
const basic = (id: string, secret: string, encoding: BufferEncoding = "base64") =>
  `Basic ${Buffer.from(`${id}:${secret}`).toString(encoding)}`;

beforeAll(async () => {
  pub = await startEmulator({ autoApprove: true });
  conf = await startEmulator({ autoApprove: true, clientId: "conf-client", clientSecret: SECRET });
});
afterAll(async () => {
  await pub.close();
  await conf.close();
});

async function freshCode(
  emulator: RunningEmulator,
  clientId = CLIENT,
  scope = "data.records:read user.email:read",
) {
  const { verifier, challenge } = pkcePair();
  const { location } = await visit(
    authorizeUrl(emulator.url, { client_id: clientId, code_challenge: challenge, scope }),
  );
  return { code: location!.searchParams.get("code")!, verifier };
}

function exchangeBody(code: string, verifier: string, extra: Record<string, string> = {}) {
  return {
    grant_type: "authorization_code",
    code,
    redirect_uri: REDIRECT,
    code_verifier: verifier,
    client_id: CLIENT,
    ...extra,
  };
}

describe("request format", () => {
  it("refuses a JSON body with invalid_request", async () => {
    const { code, verifier } = await freshCode(pub);
    const res = await fetch(`${pub.url}/oauth2/v1/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(exchangeBody(code, verifier)),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe("invalid_request");
  });

  it("refuses any parameter sent twice", async () => {
    const { code, verifier } = await freshCode(pub);
    const body = new URLSearchParams(exchangeBody(code, verifier));
    body.append("client_id", CLIENT);
    const { status, json } = await postToken(pub.url, body);
    expect(status).toBe(400);
    expect(json.error).toBe("invalid_request");
    expect(json.error_description).toContain("client_id");
  });

  it("unknown grant_type → unsupported_grant_type; none → invalid_request", async () => {
    expect((await postToken(pub.url, { grant_type: "password", client_id: CLIENT })).json.error).toBe(
      "unsupported_grant_type",
    );
    expect((await postToken(pub.url, { client_id: CLIENT })).json.error).toBe("invalid_request");
  });

  it("only POST", async () => {
    const res = await fetch(`${pub.url}/oauth2/v1/token`);
    expect(res.status).toBe(405);
  });
});

describe("client authentication: Basic required iff a secret exists", () => {
  it("public client: Basic auth is forbidden → 401 invalid_client", async () => {
    const { code, verifier } = await freshCode(pub);
    const before = pub.stats().invalid_clients;
    const { status, json } = await postToken(pub.url, exchangeBody(code, verifier), {
      authorization: basic(CLIENT, "x"),
    });
    expect(status).toBe(401);
    expect(json.error).toBe("invalid_client");
    expect(pub.stats().invalid_clients).toBe(before + 1);
  });

  it("public client: client_id required in the body, and must match", async () => {
    const { code, verifier } = await freshCode(pub);
    const body = exchangeBody(code, verifier) as Record<string, string>;
    delete body.client_id;
    expect((await postToken(pub.url, body)).json.error).toBe("invalid_request");
    const wrong = await postToken(pub.url, { ...body, client_id: "other" });
    expect(wrong.status).toBe(401);
    expect(wrong.json.error).toBe("invalid_client");
  });

  it("confidential client: no Basic, or a wrong secret → 401 invalid_client", async () => {
    const { code, verifier } = await freshCode(conf, "conf-client");
    const body = exchangeBody(code, verifier, { client_id: "conf-client" });
    expect((await postToken(conf.url, body)).status).toBe(401);
    const wrong = await postToken(conf.url, body, { authorization: basic("conf-client", "nope") });
    expect(wrong).toEqual({ status: 401, json: expect.objectContaining({ error: "invalid_client" }) });
    const bearer = await postToken(conf.url, body, { authorization: "Bearer abc" });
    expect(bearer.status).toBe(401);
  });

  it.each(["base64", "base64url"] as const)(
    "confidential client: Basic in %s works, body client_id optional",
    async (encoding) => {
      const { code, verifier } = await freshCode(conf, "conf-client");
      const body = exchangeBody(code, verifier) as Record<string, string>;
      delete body.client_id;
      const { status, json } = await postToken(conf.url, body, {
        authorization: basic("conf-client", SECRET, encoding),
      });
      expect(status).toBe(200);
      expect(json.token_type).toBe("Bearer");
    },
  );

  it("confidential client: client_id in the body must equal the Basic one", async () => {
    const { code, verifier } = await freshCode(conf, "conf-client");
    const auth = { authorization: basic("conf-client", SECRET) };
    const mismatch = await postToken(conf.url, exchangeBody(code, verifier, { client_id: "other" }), auth);
    expect(mismatch.status).toBe(401);
    const again = await freshCode(conf, "conf-client");
    const same = await postToken(
      conf.url,
      exchangeBody(again.code, again.verifier, { client_id: "conf-client" }),
      auth,
    );
    expect(same.status).toBe(200);
  });
});

describe("authorization_code grant", () => {
  it("answers the documented success body", async () => {
    const { code, verifier } = await freshCode(pub);
    const before = pub.stats().code_exchanges;
    const { status, json } = await postToken(pub.url, exchangeBody(code, verifier));
    expect(status).toBe(200);
    expect(json).toEqual({
      access_token: expect.any(String),
      refresh_token: expect.any(String),
      token_type: "Bearer",
      scope: "data.records:read user.email:read",
      expires_in: 3600,
      refresh_expires_in: 5_184_000,
    });
    expect(json.access_token).not.toBe(json.refresh_token);
    expect(pub.stats().code_exchanges).toBe(before + 1);
  });

  it("a code works once: reuse → invalid_grant", async () => {
    const { code, verifier } = await freshCode(pub);
    expect((await postToken(pub.url, exchangeBody(code, verifier))).status).toBe(200);
    const before = pub.stats().invalid_grants;
    const reuse = await postToken(pub.url, exchangeBody(code, verifier));
    expect(reuse).toEqual({ status: 400, json: expect.objectContaining({ error: "invalid_grant" }) });
    expect(pub.stats().invalid_grants).toBe(before + 1);
  });

  it("a code is single-use even when the request fails", async () => {
    const { code, verifier } = await freshCode(pub);
    const wrongVerifier = pkcePair().verifier;
    expect((await postToken(pub.url, exchangeBody(code, wrongVerifier))).json.error).toBe("invalid_grant");
    expect((await postToken(pub.url, exchangeBody(code, verifier))).json.error).toBe("invalid_grant");
  });

  it("a code is consumed even when client authentication fails", async () => {
    const { code, verifier } = await freshCode(pub);
    const failed = await postToken(pub.url, exchangeBody(code, verifier), {
      authorization: basic(CLIENT, "x"),
    });
    expect(failed.status).toBe(401);
    expect((await postToken(pub.url, exchangeBody(code, verifier))).json.error).toBe("invalid_grant");
  });

  it("a code expires after 10 minutes of emulator time", async () => {
    const emulator = await startEmulator({ autoApprove: true });
    try {
      const fresh = await freshCode(emulator);
      const stale = await freshCode(emulator);
      emulator.advanceClock(9 * 60);
      expect((await postToken(emulator.url, exchangeBody(fresh.code, fresh.verifier))).status).toBe(200);
      emulator.advanceClock(61);
      const late = await postToken(emulator.url, exchangeBody(stale.code, stale.verifier));
      expect(late.json.error).toBe("invalid_grant");
      expect(late.json.error_description).toContain("expired");
    } finally {
      await emulator.close();
    }
  });

  it("redirect_uri must equal the one used to authorize", async () => {
    const { code, verifier } = await freshCode(pub);
    const res = await postToken(pub.url, exchangeBody(code, verifier, { redirect_uri: `${REDIRECT}/` }));
    expect(res.json.error).toBe("invalid_grant");
  });

  it("the verifier must hash to the challenge and follow Airtable's alphabet", async () => {
    const a = await freshCode(pub);
    expect((await postToken(pub.url, exchangeBody(a.code, pkcePair().verifier))).json.error).toBe(
      "invalid_grant",
    );
    const b = await freshCode(pub);
    expect((await postToken(pub.url, exchangeBody(b.code, `${b.verifier}~`))).json.error).toBe(
      "invalid_grant",
    );
    const c = await freshCode(pub);
    expect((await postToken(pub.url, exchangeBody(c.code, "short"))).json.error).toBe("invalid_grant");
    const d = await freshCode(pub);
    const missing = exchangeBody(d.code, d.verifier) as Record<string, string>;
    delete missing.code_verifier;
    expect((await postToken(pub.url, missing)).json.error).toBe("invalid_request");
  });

  it("issues opaque tokens of varying length", async () => {
    const lengths = new Set<number>();
    for (let i = 0; i < 6; i++) {
      const tokens = await loginAutoApproved(pub.url, "data.records:read");
      lengths.add(tokens.access_token.length);
      lengths.add(tokens.refresh_token.length);
    }
    expect(lengths.size).toBeGreaterThan(1);
  });
});

describe("refresh_token grant", () => {
  const refresh = (emulator: RunningEmulator, refresh_token: string, extra: Record<string, string> = {}) =>
    postToken(emulator.url, { grant_type: "refresh_token", refresh_token, client_id: CLIENT, ...extra });

  it("rotates: new pair, previous access AND refresh tokens die", async () => {
    const first = await loginAutoApproved(pub.url, "data.records:read user.email:read");
    const before = pub.stats().refreshes;
    const second = await refresh(pub, first.refresh_token);
    expect(second.status).toBe(200);
    expect(second.json.access_token).not.toBe(first.access_token);
    expect(second.json.refresh_token).not.toBe(first.refresh_token);
    expect(second.json.scope).toBe("data.records:read user.email:read");
    expect(pub.stats().refreshes).toBe(before + 1);
    expect((await api(pub.url, "/v0/meta/whoami", first.access_token)).status).toBe(401);
    expect((await api(pub.url, "/v0/meta/whoami", second.json.access_token as string)).status).toBe(200);
  });

  it("reusing a rotated refresh token → invalid_grant and the whole grant is revoked", async () => {
    const first = await loginAutoApproved(pub.url, "data.records:read");
    const second = await refresh(pub, first.refresh_token);
    const reuse = await refresh(pub, first.refresh_token);
    expect(reuse).toEqual({ status: 400, json: expect.objectContaining({ error: "invalid_grant" }) });
    // The newest tokens of that grant are dead too.
    expect((await api(pub.url, "/v0/meta/whoami", second.json.access_token as string)).status).toBe(401);
    expect((await refresh(pub, second.json.refresh_token as string)).json.error).toBe("invalid_grant");
  });

  it("other grants survive a revocation", async () => {
    const victim = await loginAutoApproved(pub.url, "data.records:read");
    const bystander = await loginAutoApproved(pub.url, "data.records:read");
    await refresh(pub, victim.refresh_token);
    await refresh(pub, victim.refresh_token);
    expect((await api(pub.url, "/v0/meta/whoami", bystander.access_token)).status).toBe(200);
  });

  it("an unknown refresh token → invalid_grant; a missing one → invalid_request", async () => {
    expect((await refresh(pub, "nonsense")).json.error).toBe("invalid_grant");
    expect((await postToken(pub.url, { grant_type: "refresh_token", client_id: CLIENT })).json.error).toBe(
      "invalid_request",
    );
  });

  it("scope may narrow to a subset, never widen", async () => {
    const first = await loginAutoApproved(pub.url, "data.records:read user.email:read");
    const wider = await refresh(pub, first.refresh_token, { scope: "data.records:read schema.bases:read" });
    expect(wider.json.error).toBe("invalid_scope");
    const narrower = await refresh(pub, first.refresh_token, { scope: "data.records:read" });
    expect(narrower.status).toBe(200);
    expect(narrower.json.scope).toBe("data.records:read");
    const who = await api(pub.url, "/v0/meta/whoami", narrower.json.access_token as string);
    expect(who.json.scopes).toEqual(["data.records:read"]);
    expect(who.json.email).toBeUndefined();
  });

  it("access tokens last 60 minutes; refresh windows are 60 days and rolling", async () => {
    const emulator = await startEmulator({ autoApprove: true });
    try {
      let tokens = await loginAutoApproved(emulator.url, "data.records:read");
      emulator.advanceClock(59 * 60);
      expect((await api(emulator.url, "/v0/meta/whoami", tokens.access_token)).status).toBe(200);
      emulator.advanceClock(61);
      const expired = await api(emulator.url, "/v0/meta/whoami", tokens.access_token);
      expect(expired.status).toBe(401);
      expect(expired.json).toEqual({
        error: { type: "AUTHENTICATION_REQUIRED", message: expect.any(String) },
      });
      // 59 days, twice: each refresh starts a new 60-day window.
      for (let i = 0; i < 2; i++) {
        emulator.advanceClock(59 * 86_400);
        const next = await refresh(emulator, tokens.refresh_token);
        expect(next.status).toBe(200);
        tokens = next.json as typeof tokens;
      }
      emulator.advanceClock(60 * 86_400 + 1);
      expect((await refresh(emulator, tokens.refresh_token)).json.error).toBe("invalid_grant");
    } finally {
      await emulator.close();
    }
  });

  it("honours custom lifetimes", async () => {
    const emulator = await startEmulator({ autoApprove: true, accessTokenTtl: 60, refreshTokenTtl: 120 });
    try {
      const tokens = await loginAutoApproved(emulator.url, "data.records:read");
      const next = await refresh(emulator, tokens.refresh_token);
      expect(next.json).toMatchObject({ expires_in: 60, refresh_expires_in: 120 });
      emulator.advanceClock(121);
      expect((await refresh(emulator, next.json.refresh_token as string)).json.error).toBe("invalid_grant");
    } finally {
      await emulator.close();
    }
  });

  it("confidential clients refresh with Basic", async () => {
    const tokens = await loginAutoApproved(conf.url, "data.records:read", {
      clientId: "conf-client",
      basic: basic("conf-client", SECRET),
    });
    const res = await postToken(
      conf.url,
      { grant_type: "refresh_token", refresh_token: tokens.refresh_token },
      { authorization: basic("conf-client", SECRET) },
    );
    expect(res.status).toBe(200);
  });
});

describe("latency", () => {
  it("latencyMs delays the token endpoint", async () => {
    const emulator = await startEmulator({ autoApprove: true, latencyMs: 150 });
    try {
      const started = performance.now();
      const { status } = await postToken(emulator.url, {
        grant_type: "refresh_token",
        refresh_token: "x",
        client_id: CLIENT,
      });
      expect(status).toBe(400);
      expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    } finally {
      await emulator.close();
    }
  });
});
