/**
 * For the emulator's own HTTP tests that also need its state (to watch `state.changes`): the app
 * served on a random port, and a JSON request helper for any method.
 */
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { z } from "zod";
import { createEmulatorApp } from "./app.js";
import type { EmulatorOptions } from "./config.js";
import type { EmulatorState } from "./state.js";

export interface ServedEmulator {
  url: string;
  state: EmulatorState;
  close(): Promise<void>;
}

/** Serves a fresh emulator on 127.0.0.1 and a random port. */
export async function serveEmulator(options: EmulatorOptions = {}): Promise<ServedEmulator> {
  const { app, state } = createEmulatorApp(options);
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, () => resolve(s));
  });
  const address: AddressInfo | string | null = server.address();
  if (address === null || typeof address === "string") throw new Error("the emulator is not on a TCP port");
  const { port } = address;
  return {
    url: `http://127.0.0.1:${port}`,
    state,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        if ("closeAllConnections" in server) server.closeAllConnections();
      }),
  };
}

const jsonObject = z.record(z.string(), z.unknown());

/** Sends `body` as JSON (a string is sent as is) with a bearer token; returns status and JSON. */
export async function send(
  baseUrl: string,
  method: string,
  path: string,
  token: string | undefined,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(new URL(path, baseUrl), {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, json: jsonObject.parse(await res.json()) };
}
