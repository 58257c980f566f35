import { describe, expect, it } from "vitest";
import { isAirlockError } from "../shared/errors.js";
import { assertExpectedAccount, checkExpectedEmail, maskEmail } from "./expected-email.js";

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

describe("checkExpectedEmail", () => {
  it("returns the email in lower case, null when absent", () => {
    expect(checkExpectedEmail("Ada@Example.com", ["user.email:read"], true)).toBe("ada@example.com");
    expect(checkExpectedEmail(undefined, [], false)).toBeNull();
  });

  it.each(["ada", "ada@", "@example.com", "a b@example.com", `${"a".repeat(250)}@example.com`])(
    "refuses %s",
    (email) => {
      const error = thrown(() => checkExpectedEmail(email, ["user.email:read"], false));
      expect(isAirlockError(error) && error.code).toBe("invalid_input");
    },
  );

  it("needs user.email:read, with a fix for explicit and for default scopes", () => {
    const explicit = thrown(() => checkExpectedEmail("a@example.com", ["data.records:read"], true));
    expect(isAirlockError(explicit) && explicit.hint).toContain("Add user.email:read to scopes");
    const configured = thrown(() => checkExpectedEmail("a@example.com", ["data.records:read"], false));
    expect(isAirlockError(configured) && configured.hint).toContain("AIRTABLE_SCOPES");
  });
});

describe("maskEmail and assertExpectedAccount", () => {
  it("keeps the first letter and the domain", () => {
    expect(maskEmail("ada.lovelace@example.com")).toBe("a***@example.com");
    expect(maskEmail("nope")).toBe("***");
  });

  it("passes the expected account in any case, or no expectation", () => {
    expect(() => assertExpectedAccount("ada@example.com", "ADA@Example.com")).not.toThrow();
    expect(() => assertExpectedAccount(null, null)).not.toThrow();
  });

  it("refuses another or an unknown account with masked emails only", () => {
    for (const actual of ["bob@other.com", null]) {
      const error = thrown(() => assertExpectedAccount("ada@example.com", actual));
      expect(isAirlockError(error) && error.code).toBe("wrong_account");
      const text = JSON.stringify(isAirlockError(error) && [error.message, error.hint, error.details]);
      expect(text).toContain("a***@example.com");
      expect(text).not.toContain("ada@example.com");
      expect(text).not.toContain("bob@other.com");
    }
  });
});
