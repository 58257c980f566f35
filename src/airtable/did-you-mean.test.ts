import { describe, expect, it } from "vitest";
import { closestName, editDistance } from "./did-you-mean.js";

describe("did-you-mean", () => {
  it("measures edits", () => {
    expect(editDistance("tokn", "token")).toBe(1);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("same", "same")).toBe(0);
  });

  it("suggests a close name, nothing for a far one, and honours normalize and maxDistance", () => {
    const commands = ["login", "token", "status", "logout"];
    expect(closestName("tokn", commands)).toBe("token");
    expect(closestName("TOKEN", commands)).toBe("token");
    expect(closestName("stauts", commands)).toBe("status");
    expect(closestName("frobnicate", commands)).toBeUndefined();
    expect(closestName("x", commands)).toBeUndefined();
    expect(closestName("a.b", ["a:b"], { normalize: (n) => n.replace(".", ":") })).toBe("a:b");
    expect(closestName("abcd", ["wxyz"], { maxDistance: () => 4 })).toBe("wxyz");
  });
});
