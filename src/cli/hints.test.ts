import { describe, expect, it } from "vitest";
import { AirlockError } from "../shared/errors.js";
import { withCliHint } from "./hints.js";

const apiError = (status: number) =>
  new AirlockError("api_error", `Airtable answered HTTP ${status}.`, {
    hint: "The library's neutral hint.",
    details: { status, type: null },
  });

describe("withCliHint", () => {
  it("adds the CLI's remedy, with the profile's flag, after the library's hint", () => {
    const error = withCliHint(apiError(401), "nb") as AirlockError;
    expect(error.hint).toBe(
      "The library's neutral hint. airlock already refreshed and retried once: run `airlock login --profile nb` again.",
    );
    expect(error.code).toBe("api_error");
    expect(error.details).toEqual({ status: 401, type: null });
  });

  it("names the commands that list what a login reaches on a 404, and --force on a 403", () => {
    expect((withCliHint(apiError(404), "default") as AirlockError).hint).toContain(
      "`airlock bases` and `airlock tables BASE_ID`",
    );
    expect((withCliHint(apiError(403), "default") as AirlockError).hint).toContain("`airlock login --force`");
  });

  it("tells a failed code exchange to log in again", () => {
    const error = new AirlockError("invalid_grant", "Airtable rejected the authorization code.", {
      hint: "Start the authorization again.",
    });
    expect((withCliHint(error, "default") as AirlockError).hint).toBe(
      "Start the authorization again. Run `airlock login` again.",
    );
  });

  it("passes other errors through untouched", () => {
    const transient = new AirlockError("transient", "Airtable answered HTTP 503.");
    expect(withCliHint(transient, "default")).toBe(transient);
    expect(withCliHint(apiError(422), "default")).toBeInstanceOf(AirlockError);
    const plain = new Error("boom");
    expect(withCliHint(plain, "default")).toBe(plain);
  });
});
