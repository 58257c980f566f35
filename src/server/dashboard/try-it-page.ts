/**
 * The "Try it" panel of a connection's page: its bases, one base's tables, one table's first records
 * (reads, so GETs whose URLs can be reopened), and creating a record (a POST behind the CSRF check,
 * answered with a redirect to the records it joined). Every call goes through the proxy (try-it.ts).
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
import {
  BASE_ID_PATTERN,
  createRecord,
  getRecord,
  listBases,
  listRecords,
  listTables,
  type ProxyTarget,
  TABLE_ID_PATTERN,
  type TableSummary,
} from "./try-it.js";
import type { Notice, TryItView } from "./views.js";

/**
 * Mounts `GET` and `POST /connections/:identifier/try`.
 */
export function tryItRoutes(app: Hono, d: DashboardContext): void {
  app.get("/connections/:identifier/try", signedIn(d), (c) => tryIt(d, c));
  // Pages rendered before Try it became a GET post their forms here.
  app.post("/connections/:identifier/try", checkedForm(d, "user"), (c) => redirectToTry(d, c));
  app.post("/connections/:identifier/try/records", checkedForm(d, "user"), (c) => addRecord(d, c));
}

/** The longest text the panel sends as a new record's primary field. */
const MAX_VALUE_LENGTH = 1000;

async function tryIt(d: DashboardContext, c: Context<SignedInEnv>): Promise<Response> {
  const { session } = c.var;
  const identifier = pathIdentifier(c);
  if (!identifier || !(await d.ctx.store.getConnection(identifier))) {
    return notFound(d, c, session, identifier);
  }
  const target = proxyTarget(d, identifier);
  const action = c.req.query("action");
  if (action === "records") return recordsPage(d, c, target);
  if (action !== "tables") {
    const bases = await listBases(target);
    const view: TryItView = bases.ok ? { bases: bases.value } : { problem: bases.problem };
    return render(c, await detailView(d, session, identifier, null, view));
  }
  const baseId = c.req.query("base_id") ?? "";
  if (!BASE_ID_PATTERN.test(baseId)) return badIds(d, c, session, identifier);
  return render(c, await detailView(d, session, identifier, null, await tablesView(target, baseId)));
}

function proxyTarget(d: DashboardContext, identifier: string): ProxyTarget {
  return {
    api: d.api,
    baseUrl: d.ctx.config.publicUrl,
    secretKey: d.ctx.config.secretKey ?? "",
    identifier,
    integrationBase: d.base,
  };
}

async function badIds(
  d: DashboardContext,
  c: Context,
  session: SignedInEnv["Variables"]["session"],
  identifier: string,
): Promise<Response> {
  const notice: Notice = {
    kind: "error",
    message: "That is not an Airtable base or table id.",
    hint: "Base ids look like appXXXXXXXXXXXXXX, table ids like tblXXXXXXXXXXXXXX.",
  };
  return render(c, await detailView(d, session, identifier, notice, null), 400);
}

/**
 * `?action=records&base_id=…&table_id=…&table_name=…&primary=…[&created=rec…]`: one table's first
 * records. The table's name and primary field ride in the URL (the tables list put them there), so
 * the page costs one call: Airtable allows a base 5 requests a second.
 */
async function recordsPage(
  d: DashboardContext,
  c: Context<SignedInEnv>,
  target: ProxyTarget,
): Promise<Response> {
  const { session } = c.var;
  const table = tableFrom(c.req.query());
  if (!table) return badIds(d, c, session, target.identifier);
  const created = c.req.query("created");
  const createdId = created !== undefined && /^rec[A-Za-z0-9]{14}$/.test(created) ? created : null;
  const [records, made] = await Promise.all([
    listRecords(target, table.baseId, table.id, table.primaryField),
    // New records join the end of the table: fetch the one just made so it shows at the top.
    createdId === null
      ? null
      : getRecord(
          target,
          { baseId: table.baseId, tableId: table.id, recordId: createdId },
          table.primaryField,
        ),
  ]);
  if (!records.ok || made?.ok === false) {
    const problem = records.ok ? (made?.ok === false ? made.problem : undefined) : records.problem;
    return render(c, await detailView(d, session, target.identifier, null, problem ? { problem } : null));
  }
  const shown = made ? [made.value, ...records.value.filter((r) => r.id !== createdId)] : records.value;
  const view: TryItView = { records: { baseId: table.baseId, table, records: shown, createdId } };
  return render(c, await detailView(d, session, target.identifier, null, view));
}

/** The table a records view or a new record is for, from a query or a form; null when malformed. */
function tableFrom(
  input: Record<string, unknown>,
): (TableSummary & { baseId: string; primaryField: string }) | null {
  const text = (name: string) => {
    const value = input[name];
    return typeof value === "string" ? value : "";
  };
  const baseId = text("base_id");
  const id = text("table_id");
  const name = text("table_name");
  const primaryField = text("primary");
  if (!BASE_ID_PATTERN.test(baseId) || !TABLE_ID_PATTERN.test(id)) return null;
  if (name === "" || name.length > 255 || primaryField === "" || primaryField.length > 255) return null;
  return { baseId, id, name, primaryField, fieldCount: 0, viewCount: 0 };
}

/** `POST …/try/records`: one record through the proxy, then back to the table's records. */
async function addRecord(d: DashboardContext, c: Context<FormEnv>): Promise<Response> {
  const { session, form } = c.var;
  const identifier = pathIdentifier(c);
  if (!identifier || !(await d.ctx.store.getConnection(identifier))) {
    return notFound(d, c, session, identifier);
  }
  const table = tableFrom(form);
  if (!table) return badIds(d, c, session, identifier);
  const value = typeof form.value === "string" ? form.value.trim() : "";
  if (value === "" || value.length > MAX_VALUE_LENGTH) {
    const notice: Notice = {
      kind: "error",
      message:
        value === ""
          ? "Type a value for the new record."
          : `Keep the value under ${MAX_VALUE_LENGTH} characters.`,
      hint: `It becomes the record's ${table.primaryField}.`,
    };
    return render(c, await detailView(d, session, identifier, notice, null), 400);
  }
  const target = proxyTarget(d, identifier);
  const made = await createRecord(target, {
    baseId: table.baseId,
    tableId: table.id,
    primaryField: table.primaryField,
    value,
  });
  if (!made.ok) return render(c, await detailView(d, session, identifier, null, { problem: made.problem }));
  const query = new URLSearchParams({
    action: "records",
    base_id: table.baseId,
    table_id: table.id,
    table_name: table.name,
    primary: table.primaryField,
    created: made.value.id,
  });
  return c.redirect(`${d.base}/connections/${encodeURIComponent(identifier)}/try?${query}#try-it`, 303);
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
  return c.redirect(`${d.base}/connections/${encodeURIComponent(identifier)}/try?${query}#try-it`, 303);
}
