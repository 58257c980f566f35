import { html } from "hono/html";
import { describe, expect, it } from "vitest";
import { htmlDocument } from "./html-document.js";

describe("htmlDocument", () => {
  it("wraps head and body markup in the shared shell, escaping the title", async () => {
    const page = String(
      await htmlDocument({ title: "A <b>&", head: html`<style>p{}</style>`, body: html`<main>hi</main>` }),
    );
    expect(page).toBe(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="/favicon.ico" type="image/svg+xml">
<title>A &lt;b&gt;&amp; · Airlock</title>
<style>p{}</style>
</head>
<body>
<main>hi</main>
</body>
</html>`);
  });
});
