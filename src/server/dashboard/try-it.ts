/**
 * The "Try it" panel's calls: list a connection's bases, a base's tables, a table's first records,
 * and create a record, THROUGH the service's own proxy (`/v1/proxy/:identifier/v0/…`, with the secret key), so what the dashboard shows is
 * exactly what an app calling the proxy gets, refresh-on-401 and error mapping included.
 */
import { z } from "zod";

/** Sends a request to the service's API: the app's own `fetch` in-process, or HTTP to the public URL. */
export type ApiFetch = (request: Request) => Promise<Response>;

/** A failure in plain words: who refused (Airlock or Airtable), the code, and what to do. */
export interface Problem {
  status: number;
  source: "airlock" | "airtable" | "network";
  code: string;
  message: string;
  hint: string;
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; problem: Problem };

export interface BaseSummary {
  id: string;
  name: string;
  permissionLevel: string;
}

export interface TableSummary {
  id: string;
  name: string;
  primaryField: string | null;
  fieldCount: number;
  viewCount: number;
}

export interface RecordSummary {
  id: string;
  createdTime: string;
  /** The primary field's value as text ("" when the cell is empty). */
  primary: string;
}

/** Airtable base ids: `app` and 14 letters or digits. */
export const BASE_ID_PATTERN = /^app[A-Za-z0-9]{14}$/;

/** Airtable table ids: `tbl` and 14 letters or digits. */
export const TABLE_ID_PATTERN = /^tbl[A-Za-z0-9]{14}$/;

/** How many records the panel shows: the first page a user would see. */
export const RECORDS_SHOWN = 10;

const basesBody = z.object({
  bases: z.array(z.object({ id: z.string(), name: z.string(), permissionLevel: z.string().default("") })),
});

const tablesBody = z.object({
  tables: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      primaryFieldId: z.string().optional(),
      fields: z.array(z.object({ id: z.string(), name: z.string() })).default([]),
      views: z.array(z.unknown()).default([]),
    }),
  ),
});

const recordBody = z.object({
  id: z.string(),
  createdTime: z.string(),
  fields: z.record(z.string(), z.unknown()),
});

const recordsBody = z.object({ records: z.array(recordBody) });

const airlockError = z.object({
  error: z.object({ code: z.string(), message: z.string(), hint: z.string().optional() }),
});
const airtableError = z.object({
  error: z.union([z.string(), z.object({ type: z.string(), message: z.string().optional() })]),
});

export interface ProxyTarget {
  api: ApiFetch;
  /** The service's public URL (only the path matters when `api` is in-process). */
  baseUrl: string;
  secretKey: string;
  identifier: string;
  /** The connection's integration prefix ("" for the default one, else `/integrations/<id>`). */
  integrationBase?: string | undefined;
}

/**
 * The bases a connection's token reaches (`GET /v0/meta/bases`, first page).
 */
export async function listBases(target: ProxyTarget): Promise<Outcome<BaseSummary[]>> {
  const result = await callProxy(target, "/v0/meta/bases", basesBody);
  if (!result.ok) return result;
  return { ok: true, value: result.value.bases };
}

/**
 * A base's tables (`GET /v0/meta/bases/:baseId/tables`), with field and view counts.
 */
export async function listTables(target: ProxyTarget, baseId: string): Promise<Outcome<TableSummary[]>> {
  const result = await callProxy(target, `/v0/meta/bases/${baseId}/tables`, tablesBody);
  if (!result.ok) return result;
  return {
    ok: true,
    value: result.value.tables.map((t) => ({
      id: t.id,
      name: t.name,
      primaryField: t.fields.find((f) => f.id === t.primaryFieldId)?.name ?? null,
      fieldCount: t.fields.length,
      viewCount: t.views.length,
    })),
  };
}

/**
 * A table's first records (`GET /v0/:baseId/:tableId`), each shown by its primary field.
 */
export async function listRecords(
  target: ProxyTarget,
  baseId: string,
  tableId: string,
  primaryField: string | null,
): Promise<Outcome<RecordSummary[]>> {
  const result = await callProxy(target, `/v0/${baseId}/${tableId}?pageSize=${RECORDS_SHOWN}`, recordsBody);
  if (!result.ok) return result;
  return { ok: true, value: result.value.records.map((r) => summarize(r, primaryField)) };
}

/**
 * One record by id (`GET /v0/:baseId/:tableId/:recordId`), shown by its primary field.
 */
export async function getRecord(
  target: ProxyTarget,
  at: { baseId: string; tableId: string; recordId: string },
  primaryField: string | null,
): Promise<Outcome<RecordSummary>> {
  const result = await callProxy(target, `/v0/${at.baseId}/${at.tableId}/${at.recordId}`, recordBody);
  if (!result.ok) return result;
  return { ok: true, value: summarize(result.value, primaryField) };
}

/**
 * Creates one record whose primary field holds `value` (`POST /v0/:baseId/:tableId`, with
 * `typecast` so the text fits a number or select primary field as Airtable would convert it).
 */
export async function createRecord(
  target: ProxyTarget,
  record: { baseId: string; tableId: string; primaryField: string; value: string },
): Promise<Outcome<RecordSummary>> {
  const body = JSON.stringify({ fields: { [record.primaryField]: record.value }, typecast: true });
  const result = await callProxy(target, `/v0/${record.baseId}/${record.tableId}`, recordBody, {
    method: "POST",
    body,
  });
  if (!result.ok) return result;
  return { ok: true, value: summarize(result.value, record.primaryField) };
}

function summarize(record: z.output<typeof recordBody>, primaryField: string | null): RecordSummary {
  const cell = primaryField === null ? undefined : record.fields[primaryField];
  const primary =
    cell === undefined || cell === null ? "" : typeof cell === "object" ? JSON.stringify(cell) : String(cell);
  return { id: record.id, createdTime: record.createdTime, primary };
}

async function callProxy<S extends z.ZodType>(
  target: ProxyTarget,
  airtablePath: string,
  schema: S,
  write?: { method: "POST"; body: string },
): Promise<Outcome<z.output<S>>> {
  const proxy = `${target.baseUrl}/v1${target.integrationBase ?? ""}/proxy`;
  const url = `${proxy}/${encodeURIComponent(target.identifier)}${airtablePath}`;
  let res: Response;
  try {
    const headers: Record<string, string> = {
      authorization: `Bearer ${target.secretKey}`,
      accept: "application/json",
      ...(write ? { "content-type": "application/json" } : {}),
    };
    res = await target.api(new Request(url, { headers, ...(write ?? {}) }));
  } catch {
    return {
      ok: false,
      problem: {
        status: 0,
        source: "network",
        code: "unreachable",
        message: `The dashboard could not reach the service's proxy at ${new URL(url).origin}.`,
        hint: "Check that AIRLOCK_PUBLIC_URL is reachable from the server itself.",
      },
    };
  }
  const body: unknown = await res.json().catch(() => null);
  if (res.ok) {
    const parsed = schema.safeParse(body);
    if (parsed.success) return { ok: true, value: parsed.data };
    return {
      ok: false,
      problem: {
        status: res.status,
        source: "airtable",
        code: "unexpected_response",
        message: "Airtable answered with a shape the dashboard does not understand.",
        hint: "Check AIRTABLE_API_URL: it must point at Airtable's Web API (https://api.airtable.com).",
      },
    };
  }
  return { ok: false, problem: describeFailure(res, body) };
}

function describeFailure(res: Response, body: unknown): Problem {
  const own = airlockError.safeParse(body);
  if (own.success) {
    return {
      status: res.status,
      source: "airlock",
      code: own.data.error.code,
      message: own.data.error.message,
      hint: own.data.error.hint ?? "",
    };
  }
  const upstream = airtableError.safeParse(body);
  const error = upstream.success ? upstream.data.error : null;
  const code = typeof error === "string" ? error : (error?.type ?? `HTTP ${res.status}`);
  const message =
    typeof error === "object" && error?.message ? error.message : `Airtable answered ${res.status}.`;
  return { status: res.status, source: "airtable", code, message, hint: airtableHint(res) };
}

function airtableHint(res: Response): string {
  if (res.status === 403 || res.status === 404) {
    return "The user may not have granted this base, or the token lacks the scope (schema.bases:read to list tables, data.records:read or data.records:write for records). Reconnect and tick the base on the consent page.";
  }
  if (res.status === 429) {
    const wait = res.headers.get("retry-after");
    return `Airtable is rate limiting this base; try again in ${wait ? `${wait} seconds` : "30 seconds"}.`;
  }
  if (res.status === 401) return "Airtable refused the token even after a refresh. Reconnect the user.";
  return "Try again in a moment; if it persists, check the service's logs for this request.";
}
