/**
 * For the records tests: an emulator listening over real HTTP with its state in reach (the change
 * feed, the data), a read/write token, and `call` for any method and JSON body. The clock moves a
 * second before each call, so Airtable's 5 requests/second per base never trips a test.
 */
import { z } from "zod";
import type { EmulatorOptions } from "../config.js";
import type { EmulatorState } from "../state.js";
import { serveEmulator } from "../test-support.js";
import { loginAutoApproved } from "../testing.js";

export const READ_WRITE = "data.records:read data.records:write schema.bases:read";

export interface CallOptions {
  body?: unknown;
  /** A raw body, sent as is (with `contentType`). */
  raw?: string;
  contentType?: string;
  token?: string;
}

export interface RecordsEmulator {
  url: string;
  state: EmulatorState;
  token: string;
  call(
    method: string,
    path: string,
    options?: CallOptions,
  ): Promise<{ status: number; json: Record<string, unknown> }>;
  close(): Promise<void>;
}

const jsonObject = z.record(z.string(), z.unknown());

export async function startRecordsEmulator(options: EmulatorOptions = {}): Promise<RecordsEmulator> {
  const { url, state, close } = await serveEmulator({ autoApprove: true, ...options });
  const token = (await loginAutoApproved(url, READ_WRITE)).access_token;
  const call: RecordsEmulator["call"] = async (method, path, { body, raw, contentType, token: t } = {}) => {
    state.clock.advance(1);
    const headers: Record<string, string> = { authorization: `Bearer ${t ?? token}` };
    if (body !== undefined || raw !== undefined) headers["content-type"] = contentType ?? "application/json";
    const res = await fetch(new URL(path, url), {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : raw !== undefined ? { body: raw } : {}),
    });
    return { status: res.status, json: jsonObject.parse(await res.json()) };
  };
  return { url, state, token, call, close };
}
