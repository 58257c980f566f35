/**
 * The "Try it" panel of a connection's page: its bases, then one base's tables, read through the
 * proxy (try-it.ts). A read, so a GET: its URL can be reopened.
 */
import type { Context, Hono } from "hono";
import { detailView } from "./connection.js";
import {
  type DashboardContext,
  notFound,
  type PageResponse,
  pathIdentifier,
  render,
} from "./dashboard-context.js";
import { checkedForm, type FormEnv, type SignedInEnv, signedIn } from "./guards.js";
import { BASE_ID_PATTERN, listBases, listTables, type ProxyTarget } from "./try-it.js";
import type { Notice, TryItView } from "./views.js";

/**
 * Mounts `GET` and `POST /connections/:identifier/try`.
 */
export function tryItRoutes(app: Hono, d: DashboardContext): void {
  app.get("/connections/:identifier/try", signedIn(d), (c) => tryIt(d, c));
  // Pages rendered before Try it became a GET post their forms here.
  app.post("/connections/:identifier/try", checkedForm(d, "user"), (c) => redirectToTry(d, c));
}

async function tryIt(d: DashboardContext, c: Context<SignedInEnv>): Promise<Response> {
  const { session } = c.var;
  const identifier = pathIdentifier(c);
  if (!identifier || !(await d.ctx.store.getConnection(identifier))) {
    return notFound(d, c, session, identifier);
  }
  const target: ProxyTarget = {
    api: d.api,
    baseUrl: d.ctx.config.publicUrl,
    secretKey: d.ctx.config.secretKey ?? "",
    identifier,
  };
  if (c.req.query("action") !== "tables") {
    const bases = await listBases(target);
    const view: TryItView = bases.ok ? { bases: bases.value } : { problem: bases.problem };
    return render(c, await detailView(d, session, identifier, null, view));
  }
  const baseId = c.req.query("base_id") ?? "";
  if (!BASE_ID_PATTERN.test(baseId)) {
    const notice: Notice = {
      kind: "error",
      message: "That is not an Airtable base id.",
      hint: "Base ids look like appXXXXXXXXXXXXXX.",
    };
    return render(c, await detailView(d, session, identifier, notice, null), 400);
  }
  return render(c, await detailView(d, session, identifier, null, await tablesView(target, baseId)));
}

/** One base's tables, with the bases list beside them when it could be read too. */
async function tablesView(target: ProxyTarget, baseId: string): Promise<TryItView> {
  const [bases, tables] = await Promise.all([listBases(target), listTables(target, baseId)]);
  const baseName = bases.ok ? (bases.value.find((b) => b.id === baseId)?.name ?? null) : null;
  const known = bases.ok ? { bases: bases.value } : {};
  return tables.ok
    ? { ...known, tables: { baseId, baseName, tables: tables.value } }
    : { ...known, problem: tables.problem };
}

function redirectToTry(d: DashboardContext, c: Context<FormEnv>): PageResponse {
  const identifier = pathIdentifier(c);
  if (!identifier) return notFound(d, c, c.var.session, null);
  const { form } = c.var;
  const query = new URLSearchParams(
    form.action === "tables" && typeof form.base_id === "string"
      ? { action: "tables", base_id: form.base_id }
      : { action: "bases" },
  );
  return c.redirect(`/connections/${encodeURIComponent(identifier)}/try?${query}#try-it`, 303);
}
