import { describe, expect, it } from "vitest";
import { isAirlockError } from "../shared/errors.js";
import { createEmulatorApp, startEmulator } from "./index.js";

describe("startEmulator", () => {
  it("listens on 127.0.0.1 and a random port, and closes (idempotently)", async () => {
    const emulator = await startEmulator();
    expect(emulator.url).toBe(`http://127.0.0.1:${emulator.port}`);
    expect(emulator.port).toBeGreaterThan(0);
    const res = await fetch(`${emulator.url}/__emulator/stats`);
    expect(res.status).toBe(200);
    await Promise.all([emulator.close(), emulator.close()]);
    await expect(fetch(`${emulator.url}/__emulator/stats`)).rejects.toThrow();
  });

  it("stats() is a snapshot copy; advanceClock moves the emulator clock", async () => {
    const emulator = await startEmulator();
    try {
      const snapshot = emulator.stats();
      snapshot.refreshes = 99;
      expect(emulator.stats().refreshes).toBe(0);
      emulator.advanceClock(120);
      const clock = (await (await fetch(`${emulator.url}/__emulator/clock`)).json()) as {
        offset_seconds: number;
      };
      expect(clock.offset_seconds).toBe(120);
    } finally {
      await emulator.close();
    }
  });

  it("rejects bad options with a config_invalid error", async () => {
    await expect(startEmulator({ redirectUris: ["ftp://x"] })).rejects.toSatisfy((e) =>
      isAirlockError(e, "config_invalid"),
    );
  });

  it("reports a busy port", async () => {
    const first = await startEmulator();
    try {
      await expect(startEmulator({ port: first.port })).rejects.toMatchObject({ code: "EADDRINUSE" });
    } finally {
      await first.close();
    }
  });
});

describe("createEmulatorApp", () => {
  it("serves in-process through app.request and exposes its state", async () => {
    const { app, state } = createEmulatorApp({ autoApprove: true });
    const res = await app.request("/__emulator/stats");
    expect(await res.json()).toEqual(state.stats);
    expect(state.config.autoApprove).toBe(true);
    expect((await app.request("/nowhere")).status).toBe(404);
    const home = await app.request("http://127.0.0.1:1234/");
    expect(await home.text()).toContain("AIRTABLE_OAUTH_URL=http://127.0.0.1:1234");
  });
});
