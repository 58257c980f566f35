/**
 * Deterministic sample data: one user, a few bases with tables, fields of several types, views and
 * enough records that listing them needs pagination. The same seed always gives the same ids, so
 * tests and docs can name them.
 */

export type PermissionLevel = "none" | "read" | "comment" | "edit" | "create";

export interface SampleUser {
  id: string;
  email: string;
  name: string;
}

export interface SampleField {
  id: string;
  name: string;
  type: string;
  description?: string;
  options?: Record<string, unknown>;
}

export interface SampleView {
  id: string;
  name: string;
  type: "grid" | "form" | "calendar" | "gallery" | "kanban" | "timeline" | "block";
}

export interface SampleRecord {
  id: string;
  createdTime: string;
  fields: Record<string, unknown>;
}

/**
 * What a view does to a list (emulator-only, never part of the schema answer): its filter, a
 * formula as `filterByFormula` takes, and its sort. A view without one lists every record in
 * table order.
 */
export interface ViewQuery {
  filterByFormula?: string;
  sort?: { field: string; direction: "asc" | "desc" }[];
}

export interface SampleTable {
  id: string;
  name: string;
  description?: string;
  primaryFieldId: string;
  fields: SampleField[];
  views: SampleView[];
  records: SampleRecord[];
}

export interface SampleBase {
  id: string;
  name: string;
  permissionLevel: PermissionLevel;
  tables: SampleTable[];
}

export interface SampleData {
  user: SampleUser;
  bases: SampleBase[];
  /** O(1) lookups by id. */
  baseById: ReadonlyMap<string, SampleBase>;
  /**
   * Filters and sorts of the views that have them, by view id (kept out of the schema answer);
   * views absent here (or data without it) list every record in table order.
   */
  viewQueries?: ReadonlyMap<string, ViewQuery>;
}

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** mulberry32: a tiny seeded PRNG; quality is irrelevant, determinism is the point. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * An Airtable-style id: a three-letter prefix and 14 alphanumerics.
 */
export function idFactory(seed: number): (prefix: string) => string {
  const random = seededRandom(seed);
  return (prefix) => {
    let id = prefix;
    for (let i = 0; i < 14; i++) id += ALPHANUMERIC[Math.floor(random() * ALPHANUMERIC.length)];
    return id;
  };
}

/** A field definition plus how to fill it for record number `i` (undefined = empty, omitted like Airtable does). */
interface FieldSpec {
  name: string;
  type: string;
  description?: string;
  options?: (id: (prefix: string) => string) => Record<string, unknown>;
  value: (i: number, context: { linked: string[]; createdTime: string }) => unknown;
}

interface TableSpec {
  name: string;
  description?: string;
  records: number;
  fields: FieldSpec[];
  views: { name: string; type: SampleView["type"]; query?: ViewQuery }[];
  /**
   * Fields added after the first release of this data: their ids come from a second id stream, so
   * every id above stays what it was.
   */
  extraFields?: FieldSpec[];
  /** Name of a table in the same base whose record ids a `multipleRecordLinks` field points to. */
  linksTo?: string;
}

const STATUSES = ["Idea", "Planned", "In progress", "Shipped"];
const FIRST_NAMES = [
  "Ada",
  "Grace",
  "Alan",
  "Edsger",
  "Barbara",
  "Donald",
  "Frances",
  "Ken",
  "Margaret",
  "Niklaus",
];
const LAST_NAMES = [
  "Lovelace",
  "Hopper",
  "Turing",
  "Dijkstra",
  "Liskov",
  "Knuth",
  "Allen",
  "Thompson",
  "Hamilton",
  "Wirth",
];
const COMPANIES = [
  "Acme",
  "Globex",
  "Initech",
  "Umbrella",
  "Hooli",
  "Stark",
  "Wayne",
  "Wonka",
  "Tyrell",
  "Cyberdyne",
  "Soylent",
  "Vandelay",
];

const day = (i: number) => new Date(Date.UTC(2024, 0, 1) + i * 86_400_000).toISOString().slice(0, 10);
const person = (i: number) => `${FIRST_NAMES[i % 10]} ${LAST_NAMES[Math.floor(i / 10) % 10]}`;
const selectOptions = (names: string[], colors: string[]) => (id: (prefix: string) => string) => ({
  choices: names.map((name, k) => ({ id: id("sel"), name, color: colors[k % colors.length] })),
});

const BASE_SPECS: { name: string; permissionLevel: PermissionLevel; tables: TableSpec[] }[] = [
  {
    name: "Product Roadmap",
    permissionLevel: "create",
    tables: [
      {
        name: "Features",
        description: "Everything we might build",
        records: 230,
        linksTo: "Releases",
        fields: [
          { name: "Name", type: "singleLineText", value: (i) => `Feature ${i + 1}` },
          {
            name: "Notes",
            type: "multilineText",
            description: "Why it matters",
            value: (i) => (i % 3 === 0 ? undefined : `Notes for feature ${i + 1}.\nSecond line.`),
          },
          {
            name: "Status",
            type: "singleSelect",
            options: selectOptions(STATUSES, ["grayLight2", "blueLight2", "yellowLight2", "greenLight2"]),
            value: (i) => STATUSES[i % STATUSES.length],
          },
          {
            name: "Priority",
            type: "number",
            options: () => ({ precision: 0 }),
            value: (i) => (i * 7) % 5,
          },
          {
            name: "Shipped",
            type: "checkbox",
            options: () => ({ icon: "check", color: "greenBright" }),
            value: (i) => (i % 4 === 3 ? true : undefined),
          },
          {
            name: "Due",
            type: "date",
            options: () => ({ dateFormat: { name: "iso", format: "YYYY-MM-DD" } }),
            value: (i) => day(i),
          },
          {
            name: "Estimate",
            type: "currency",
            options: () => ({ precision: 2, symbol: "$" }),
            value: (i) => ((i * 137) % 5000) + 0.5,
          },
          { name: "Owner email", type: "email", value: (i) => `owner${i % 9}@example.com` },
          {
            name: "Rating",
            type: "rating",
            options: () => ({ icon: "star", max: 5, color: "yellowBright" }),
            value: (i) => (i % 5) + 1,
          },
          {
            name: "Release",
            type: "multipleRecordLinks",
            value: (i, { linked }) => (linked.length ? [linked[i % linked.length]] : undefined),
          },
        ],
        views: [
          { name: "Grid view", type: "grid" },
          {
            name: "By status",
            type: "kanban",
            query: {
              sort: [
                { field: "Priority", direction: "desc" },
                { field: "Name", direction: "asc" },
              ],
            },
          },
          { name: "Calendar", type: "calendar", query: { filterByFormula: "{Shipped}" } },
        ],
        extraFields: [
          {
            name: "Tags",
            type: "multipleSelects",
            options: selectOptions(["UX", "API", "Mobile"], ["blueLight2", "purpleLight2", "tealLight2"]),
            value: () => undefined,
          },
          {
            name: "Kickoff",
            type: "dateTime",
            options: () => ({
              dateFormat: { name: "iso", format: "YYYY-MM-DD" },
              timeFormat: { name: "24hour", format: "HH:mm" },
              timeZone: "utc",
            }),
            value: () => undefined,
          },
          { name: "Spec", type: "url", value: () => undefined },
          { name: "Mockups", type: "multipleAttachments", value: () => undefined },
        ],
      },
      {
        name: "Releases",
        records: 6,
        fields: [
          { name: "Version", type: "singleLineText", value: (i) => `v${i + 1}.0` },
          {
            name: "Date",
            type: "date",
            options: () => ({ dateFormat: { name: "iso", format: "YYYY-MM-DD" } }),
            value: (i) => day(i * 30),
          },
          {
            name: "Stable",
            type: "checkbox",
            options: () => ({ icon: "check", color: "greenBright" }),
            value: (i) => (i < 5 ? true : undefined),
          },
        ],
        views: [{ name: "Grid view", type: "grid" }],
        extraFields: [
          {
            name: "Created",
            type: "createdTime",
            options: () => ({ result: { type: "dateTime" } }),
            value: (_i, { createdTime }) => createdTime,
          },
        ],
      },
    ],
  },
  {
    name: "Customer CRM",
    permissionLevel: "edit",
    tables: [
      {
        name: "Companies",
        records: 12,
        fields: [
          { name: "Name", type: "singleLineText", value: (i) => COMPANIES[i % COMPANIES.length] },
          {
            name: "Website",
            type: "url",
            value: (i) => `https://${COMPANIES[i % COMPANIES.length]?.toLowerCase()}.example.com`,
          },
          {
            name: "Employees",
            type: "number",
            options: () => ({ precision: 0 }),
            value: (i) => (i + 1) * 45,
          },
        ],
        views: [{ name: "Grid view", type: "grid" }],
      },
      {
        name: "Contacts",
        records: 40,
        linksTo: "Companies",
        fields: [
          { name: "Name", type: "singleLineText", value: (i) => person(i) },
          { name: "Email", type: "email", value: (i) => `contact${i + 1}@example.com` },
          {
            name: "Phone",
            type: "phoneNumber",
            value: (i) => (i % 2 ? `+1 555 01${String(i).padStart(2, "0")}` : undefined),
          },
          {
            name: "Company",
            type: "multipleRecordLinks",
            value: (i, { linked }) => (linked.length ? [linked[i % linked.length]] : undefined),
          },
          {
            name: "Stage",
            type: "singleSelect",
            options: selectOptions(
              ["Lead", "Customer", "Churned"],
              ["blueLight2", "greenLight2", "redLight2"],
            ),
            value: (i) => ["Lead", "Customer", "Churned"][i % 3],
          },
        ],
        views: [
          { name: "Grid view", type: "grid" },
          { name: "Signup form", type: "form" },
        ],
      },
    ],
  },
  {
    name: "Hiring Pipeline",
    permissionLevel: "read",
    tables: [
      {
        name: "Candidates",
        records: 8,
        fields: [
          { name: "Name", type: "singleLineText", value: (i) => person(i + 37) },
          {
            name: "Applied",
            type: "date",
            options: () => ({ dateFormat: { name: "iso", format: "YYYY-MM-DD" } }),
            value: (i) => day(100 + i),
          },
          {
            name: "Score",
            type: "percent",
            options: () => ({ precision: 0 }),
            value: (i) => ((i * 13) % 100) / 100,
          },
        ],
        views: [
          { name: "Grid view", type: "grid" },
          { name: "Pipeline", type: "kanban" },
        ],
      },
    ],
  },
];

/** Airtable's field resource for a spec, with its id from `id`. */
function buildField(f: FieldSpec, id: (prefix: string) => string): SampleField {
  return {
    id: id("fld"),
    name: f.name,
    type: f.type,
    ...(f.description ? { description: f.description } : {}),
    ...(f.options ? { options: f.options(id) } : {}),
  };
}

/** The ids a table's build draws: the first stream as it always was, extras from the second. */
interface IdStreams {
  id: (prefix: string) => string;
  extraId: (prefix: string) => string;
}

function buildTable(
  spec: TableSpec,
  { id, extraId }: IdStreams,
  linked: string[],
  epoch: number,
  viewQueries: Map<string, ViewQuery>,
): SampleTable {
  const fields: SampleField[] = spec.fields.map((f) => buildField(f, id));
  const views = spec.views.map((v) => {
    const view = { id: id("viw"), name: v.name, type: v.type };
    if (v.query) viewQueries.set(view.id, v.query);
    return view;
  });
  const specs = [...spec.fields, ...(spec.extraFields ?? [])];
  const records: SampleRecord[] = [];
  for (let i = 0; i < spec.records; i++) {
    const createdTime = new Date(epoch + i * 37 * 60_000).toISOString();
    const values: Record<string, unknown> = {};
    specs.forEach((f) => {
      const value = f.value(i, { linked, createdTime });
      if (value !== undefined) values[f.name] = value;
    });
    records.push({ id: id("rec"), createdTime, fields: values });
  }
  const tableId = id("tbl");
  fields.push(...(spec.extraFields ?? []).map((f) => buildField(f, extraId)));
  return {
    id: tableId,
    name: spec.name,
    ...(spec.description ? { description: spec.description } : {}),
    primaryFieldId: fields[0]!.id,
    fields,
    views,
    records,
  };
}

/**
 * Builds the sample world. Deterministic: the same seed gives the same ids and values.
 */
export function createSampleData(seed = 20240101): SampleData {
  const id = idFactory(seed);
  const streams: IdStreams = { id, extraId: idFactory(seed + 1) };
  const viewQueries = new Map<string, ViewQuery>();
  const user: SampleUser = { id: id("usr"), email: "ada.lovelace@example.com", name: "Ada Lovelace" };
  const epoch = Date.UTC(2024, 0, 15, 9, 0, 0);
  const bases: SampleBase[] = BASE_SPECS.map((baseSpec) => {
    const baseId = id("app");
    // Tables that others link to are built first so links point at real record ids.
    const built = new Map<string, SampleTable>();
    const ordered = [...baseSpec.tables].sort(
      (a, b) => Number(Boolean(a.linksTo)) - Number(Boolean(b.linksTo)),
    );
    for (const spec of ordered) {
      const linked = spec.linksTo ? (built.get(spec.linksTo)?.records.map((r) => r.id) ?? []) : [];
      built.set(spec.name, buildTable(spec, streams, linked, epoch, viewQueries));
    }
    const tables = baseSpec.tables.map((t) => built.get(t.name)!);
    // Link fields carry the linked table's id in their options, as Airtable's schema does.
    baseSpec.tables.forEach((spec, t) => {
      if (!spec.linksTo) return;
      const field = tables[t]!.fields.find((f) => f.type === "multipleRecordLinks");
      if (field)
        field.options = {
          linkedTableId: built.get(spec.linksTo)!.id,
          isReversed: false,
          prefersSingleRecordLink: false,
        };
    });
    return { id: baseId, name: baseSpec.name, permissionLevel: baseSpec.permissionLevel, tables };
  });
  return { user, bases, baseById: new Map(bases.map((b) => [b.id, b])), viewQueries };
}

/**
 * Finds a table by id (`tbl…`) or by name, as Airtable's record endpoints accept either.
 */
export function findTable(base: SampleBase, idOrName: string): SampleTable | undefined {
  return base.tables.find((t) => t.id === idOrName) ?? base.tables.find((t) => t.name === idOrName);
}
