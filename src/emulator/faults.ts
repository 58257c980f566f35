import { z } from "zod";

const status = z.number().int().min(400).max(599);
const count = z.number().int().min(1).max(1_000_000).default(1);
const delayMs = z.number().int().min(0).max(600_000);

/** `POST /__emulator/faults {token: …}`: what the next `count` token requests do instead of answering normally. */
export const tokenFaultSchema = z
  .strictObject({
    /** Answer with this status (and `error`, default derived from the status) instead of processing. */
    status: status.optional(),
    /** The `error` field of the injected body; status defaults to 401 for invalid_client, else 400. */
    error: z
      .string()
      .regex(/^[\x20-\x7e]{1,100}$/, "printable ASCII, 1-100 chars")
      .optional(),
    count,
    /** Wait this long before answering (combined with the rest, or alone). */
    delay_ms: delayMs.optional(),
    /** Process the request for real (tokens rotate, stats count) and then destroy the connection. */
    rotate_then_drop: z.boolean().optional(),
  })
  .refine(
    (f) => f.status !== undefined || f.error !== undefined || f.delay_ms !== undefined || f.rotate_then_drop,
    {
      message: "say what to inject: status, error, delay_ms or rotate_then_drop",
    },
  )
  .refine((f) => !(f.rotate_then_drop && (f.status !== undefined || f.error !== undefined)), {
    message: "rotate_then_drop processes the request for real; it cannot be combined with status or error",
  });

/**
 * `POST /__emulator/faults {api: …}`: what the next `count` /v0 requests do. With `status`, they
 * answer that error (after `delay_ms`, if given); with `delay_ms` alone, they are slow but answer
 * normally (a slow upstream, for tests of in-flight requests).
 */
export const apiFaultSchema = z
  .strictObject({
    /** Answer this error status (with Airtable's body for it, e.g. 503 RETRIABLE_ERROR). */
    status: status.optional(),
    count,
    /** Sent as the Retry-After header (seconds) of the error answer. */
    retry_after: z.number().int().min(0).max(86_400).optional(),
    /** Wait this long before answering (the error, or, without `status`, the normal answer). */
    delay_ms: delayMs.optional(),
  })
  .refine((f) => f.status !== undefined || f.delay_ms !== undefined, {
    message: "say what to inject: status (an error answer) and/or delay_ms (a slow answer)",
  })
  .refine((f) => f.retry_after === undefined || f.status !== undefined, {
    message: "retry_after goes with an error answer: give status too",
  });

/** The control body; `null` clears that kind of fault. */
export const faultsBodySchema = z
  .strictObject({
    token: tokenFaultSchema.nullable().optional(),
    api: apiFaultSchema.nullable().optional(),
  })
  .refine((b) => b.token !== undefined || b.api !== undefined, {
    message: "give `token` and/or `api` (null clears)",
  });

export type TokenFault = z.infer<typeof tokenFaultSchema>;
export type ApiFault = z.infer<typeof apiFaultSchema>;
export type FaultsBody = z.infer<typeof faultsBodySchema>;

/**
 * The OAuth `error` an injected token fault answers with when none was given.
 */
export function defaultTokenError(statusCode: number): string {
  if (statusCode === 401) return "invalid_client";
  if (statusCode === 503) return "temporarily_unavailable";
  if (statusCode >= 500) return "server_error";
  if (statusCode === 409) return "conflict";
  if (statusCode === 429) return "rate_limited";
  return "invalid_request";
}

/**
 * Holds the armed faults and hands each request the fault it must suffer (counting down).
 */
export class FaultInjector {
  #token: { fault: TokenFault; remaining: number } | undefined;
  #api: { fault: ApiFault; remaining: number } | undefined;

  /**
   * Arms (or, with null, clears) faults from a validated control body.
   */
  arm(body: FaultsBody): void {
    if (body.token !== undefined)
      this.#token = body.token ? { fault: body.token, remaining: body.token.count } : undefined;
    if (body.api !== undefined)
      this.#api = body.api ? { fault: body.api, remaining: body.api.count } : undefined;
  }

  /**
   * The fault for this token request, if one is armed.
   */
  takeToken(): TokenFault | undefined {
    const armed = this.#token;
    if (!armed) return undefined;
    if (--armed.remaining <= 0) this.#token = undefined;
    return armed.fault;
  }

  /**
   * The fault for this /v0 request, if one is armed.
   */
  takeApi(): ApiFault | undefined {
    const armed = this.#api;
    if (!armed) return undefined;
    if (--armed.remaining <= 0) this.#api = undefined;
    return armed.fault;
  }

  /** What is armed, with the remaining counts (for `GET /__emulator/faults`). */
  snapshot(): {
    token: (TokenFault & { remaining: number }) | null;
    api: (ApiFault & { remaining: number }) | null;
  } {
    return {
      token: this.#token ? { ...this.#token.fault, remaining: this.#token.remaining } : null,
      api: this.#api ? { ...this.#api.fault, remaining: this.#api.remaining } : null,
    };
  }

  /**
   * Disarms everything.
   */
  clear(): void {
    this.#token = undefined;
    this.#api = undefined;
  }
}
