/**
 * The dashboard's one stylesheet and its one small script, kept as strings so `tsc` ships them in
 * `dist/` with no copy step. Served with a content hash in the URL and cached for a year.
 */
import { createHash } from "node:crypto";

export const DASHBOARD_CSS = `
:root {
  --bg: #f6f7f9; --surface: #fff; --text: #1b1f24; --muted: #57606a; --border: #d0d7de;
  --accent: #1f5fbf; --accent-text: #fff; --accent-hover: #174a96; --focus: #ffbf47;
  --ok-bg: #dafbe1; --ok-text: #0b5b27; --warn-bg: #fff1c2; --warn-text: #6b4500;
  --bad-bg: #ffe3e0; --bad-text: #8a1c12; --off-bg: #eaeef2; --off-text: #3d444d;
  --demo-bg: #3b2a80; --demo-text: #fff; --radius: 8px;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0f1318; --surface: #171c23; --text: #e6edf3; --muted: #9aa5b1; --border: #343c47;
    --accent: #4c8dff; --accent-text: #0b1220; --accent-hover: #79a8ff;
    --ok-bg: #113d22; --ok-text: #9be9b0; --warn-bg: #46360a; --warn-text: #ffd97a;
    --bad-bg: #4a1712; --bad-text: #ffb3aa; --off-bg: #262d36; --off-text: #c9d1d9; --demo-bg: #2a1f5c;
  }
}
* { box-sizing: border-box; }
html { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
body { margin: 0; background: var(--bg); color: var(--text); }
a { color: var(--accent); }
a:hover { color: var(--accent-hover); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; border-radius: 4px; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.92em; }
.skip { position: absolute; left: -999px; top: 0; }
.sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden;
  clip: rect(0, 0, 0, 0); white-space: nowrap; border: 0; }
.mt { margin-top: 16px; }
.skip:focus { left: 8px; top: 8px; background: var(--surface); padding: 6px 10px; z-index: 10; }
.demo { background: var(--demo-bg); color: var(--demo-text); padding: 8px 24px; font-size: 0.93rem; }
.demo code { background: rgb(255 255 255 / 0.16); padding: 1px 5px; border-radius: 4px; }
.top { display: flex; align-items: center; gap: 24px; padding: 12px 24px; background: var(--surface);
  border-bottom: 1px solid var(--border); }
.brand { font-weight: 700; font-size: 1.1rem; color: var(--text); text-decoration: none; letter-spacing: -0.01em; }
.brand span { color: var(--accent); }
.top nav { flex: 1; }
.top nav a { color: var(--muted); text-decoration: none; font-weight: 500; }
.top nav a[aria-current="page"] { color: var(--text); }
main { max-width: 1240px; margin: 0 auto; padding: 28px 24px 64px; }
main.narrow { max-width: 440px; padding-top: 12vh; }
h1 { font-size: 1.6rem; margin: 0 0 4px; letter-spacing: -0.015em; }
h2 { font-size: 1.15rem; margin: 0 0 12px; }
.lede { color: var(--muted); margin: 0 0 24px; }
.card { background: var(--surface); border: 1px solid var(--border); border-radius: var(--radius);
  padding: 20px; margin-bottom: 24px; }
.head { display: flex; align-items: center; justify-content: space-between; gap: 16px; flex-wrap: wrap;
  margin-bottom: 20px; }
label { display: block; font-weight: 600; margin-bottom: 4px; }
.help { color: var(--muted); font-size: 0.88rem; margin: 4px 0 0; }
::placeholder { color: var(--muted); opacity: 0.75; }
input[type="text"], input[type="password"], input[type="url"] { width: 100%; max-width: 480px; padding: 8px 10px;
  font: inherit; color: var(--text); background: var(--bg); border: 1px solid var(--border); border-radius: 6px; }
fieldset { border: 0; padding: 0; margin: 16px 0 0; }
legend { font-weight: 600; padding: 0; margin-bottom: 6px; }
.checks { display: flex; flex-wrap: wrap; gap: 6px 18px; }
.checks label { font-weight: 400; display: inline-flex; gap: 6px; align-items: center; margin: 0; }
button, .button { display: inline-flex; align-items: center; gap: 6px; padding: 8px 14px; font: inherit;
  font-weight: 600; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent);
  color: var(--accent-text); cursor: pointer; text-decoration: none; white-space: nowrap; }
button:hover, .button:hover { background: var(--accent-hover); border-color: var(--accent-hover); color: var(--accent-text); }
button.secondary, .button.secondary { background: var(--surface); color: var(--text); border-color: var(--border); }
button.secondary:hover, .button.secondary:hover { background: var(--bg); color: var(--text); }
button.danger { background: var(--bad-text); border-color: var(--bad-text); color: #fff; }
button.small, .button.small { padding: 4px 10px; font-size: 0.88rem; }
button.link { background: none; border: 0; color: var(--muted); padding: 0; font-weight: 500; }
button.link:hover { color: var(--text); background: none; text-decoration: underline; }
form.inline { display: inline; margin: 0; }
.table-wrap { position: relative; overflow-x: auto; background: var(--surface); border: 1px solid var(--border); border-radius: var(--radius); }
table { border-collapse: collapse; width: 100%; font-size: 0.93rem; }
caption { text-align: left; padding: 12px 16px; font-weight: 600; }
th, td { text-align: left; padding: 10px 12px; border-top: 1px solid var(--border); vertical-align: top; }
thead th { border-top: 0; background: var(--bg); color: var(--muted); font-size: 0.8rem; text-transform: uppercase;
  letter-spacing: 0.04em; white-space: nowrap; }
tbody tr:hover { background: color-mix(in srgb, var(--bg) 60%, transparent); }
tr.highlight { background: var(--ok-bg); }
td.nowrap { white-space: nowrap; }
td:first-child { overflow-wrap: break-word; }
.ident, .notice p, .lede, td.details { overflow-wrap: anywhere; }
td.ident-cell a { display: block; max-width: 12rem; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
dd.dead { color: var(--bad-text); }
td .chips { max-width: 250px; }
td.status-cell { min-width: 170px; }
td.status-cell form { display: block; margin-top: 6px; }
.sub { display: block; color: var(--muted); font-size: 0.85rem; }
.badge { display: inline-block; padding: 1px 9px; border-radius: 999px; font-size: 0.82rem; font-weight: 600; white-space: nowrap; }
.badge.active { background: var(--ok-bg); color: var(--ok-text); }
.badge.reauth_required { background: var(--warn-bg); color: var(--warn-text); }
.badge.revoked, .badge.none { background: var(--off-bg); color: var(--off-text); }
.chips { display: flex; flex-wrap: wrap; gap: 4px; list-style: none; margin: 0; padding: 0; }
.chips li { background: var(--off-bg); color: var(--off-text); border-radius: 4px; padding: 0 6px; font-size: 0.8rem;
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.filters { display: flex; gap: 6px; flex-wrap: wrap; margin: 0 0 12px; padding: 0; list-style: none; }
.filters a { display: inline-block; padding: 4px 12px; border-radius: 999px; border: 1px solid var(--border);
  color: var(--text); text-decoration: none; background: var(--surface); font-size: 0.9rem; }
.filters a[aria-current="page"] { background: var(--text); color: var(--surface); border-color: var(--text); }
.notice { border-radius: var(--radius); padding: 12px 16px; margin: 0 0 20px; border: 1px solid transparent; }
.notice p { margin: 0; }
.notice p:first-child { font-weight: 600; }
.notice p + p { margin-top: 4px; }
.notice.error { background: var(--bad-bg); color: var(--bad-text); border-color: color-mix(in srgb, var(--bad-text) 30%, transparent); }
.notice.ok { background: var(--ok-bg); color: var(--ok-text); }
.notice.warn { background: var(--warn-bg); color: var(--warn-text); }
.link-box { display: flex; gap: 8px; margin: 12px 0; }
.link-box input { max-width: none; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.88rem; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 8px 24px; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; min-width: 0; overflow-wrap: anywhere; }
pre.metadata { margin: 0; max-height: 16em; overflow: auto; white-space: pre-wrap; font-size: 0.85em; }
.grid { display: grid; grid-template-columns: minmax(0, 2fr) minmax(0, 3fr); gap: 24px; align-items: start; }
@media (max-width: 860px) { .grid { grid-template-columns: minmax(0, 1fr); } }
@media (max-width: 600px) { main { padding: 20px 14px 48px; } .top { padding: 12px 14px; gap: 14px; } .demo { padding: 8px 14px; } }
.actions { display: flex; gap: 8px; flex-wrap: wrap; margin-top: 16px; }
.empty { padding: 32px 16px; text-align: center; color: var(--muted); }
.muted { color: var(--muted); }
.pager { display: flex; justify-content: flex-end; margin-top: 12px; }
`;

/** Copy buttons: the one place where script earns its keep. */
export const DASHBOARD_JS = `
document.addEventListener("click", async (event) => {
  const button = event.target instanceof Element ? event.target.closest("[data-copy]") : null;
  if (!button) return;
  const field = document.getElementById(button.getAttribute("data-copy"));
  if (!field) return;
  try {
    await navigator.clipboard.writeText(field.value);
    button.textContent = "Copied";
  } catch {
    field.select();
    button.textContent = "Press Ctrl+C";
  }
  setTimeout(() => { button.textContent = "Copy"; }, 2000);
});
`;

const version = (text: string) => createHash("sha256").update(text).digest("hex").slice(0, 12);

/** Content hashes for cache-busting URLs. */
export const ASSET_VERSION = { css: version(DASHBOARD_CSS), js: version(DASHBOARD_JS) };
