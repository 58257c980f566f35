import { afterAll, beforeAll, expect, it } from "vitest";
import { createSampleData } from "../sample-data.js";
import { loginAutoApproved } from "../testing.js";
import { webhookHubFor } from "./hub.js";
import { call, startTestEmulator, type TestEmulator } from "./test-bed.js";

const roadmap = createSampleData().bases[0]!;
let emulator: TestEmulator;

beforeAll(async () => {
  emulator = await startTestEmulator();
});
afterAll(() => emulator.close());

it("POST /__emulator/reset is a fresh Airtable: the webhooks are gone", async () => {
  const { access_token } = await loginAutoApproved(emulator.url, "webhook:manage data.records:read");
  const spec = { options: { filters: { dataTypes: ["tableData"] } } };
  const made = await call(emulator, "POST", `/v0/bases/${roadmap.id}/webhooks`, access_token, {
    specification: spec,
  });
  expect(made.status).toBe(200);
  expect(webhookHubFor(emulator.state).list(roadmap.id, emulator.state.config.clientId)).toHaveLength(1);

  const reset = await fetch(new URL("/__emulator/reset", emulator.url), { method: "POST" });
  expect(reset.status).toBe(200);
  expect(webhookHubFor(emulator.state).list(roadmap.id, emulator.state.config.clientId)).toHaveLength(0);
  const ping = await fetch(new URL(`/__emulator/webhooks/${String(made.json.id)}/ping`, emulator.url), {
    method: "POST",
  });
  expect(ping.status).toBe(404);
});
