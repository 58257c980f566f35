/**
 * The connections list (`/`, filtered by status, paged) and its "New connection" form, which makes a
 * connect link that returns to the dashboard.
 */
import type { Context, Hono } from "hono";
import { AirlockError, isAirlockError } from "../../shared/errors.js";
import { CONNECTION_STATUSES, type ConnectionStatus } from "../../store/types.js";
import { createConnectSession } from "../connect-sessions.js";
import { IDENTIFIER_PATTERN } from "../validation.js";
import { type DashboardContext, render, returnUrlFor } from "./dashboard-context.js";
import { checkedForm, type FormEnv, type SignedInEnv, signedIn } from "./guards.js";
import { isLanding, landing } from "./landing.js";
import type { DashboardSession } from "./session.js";
import { connectionsPage, connectLinkPage, type Html, type Notice } from "./views.js";

const PAGE_SIZE = 50;
/** The API schema's limit (IDENTIFIER_PATTERN); named here only for the message. */
const MAX_IDENTIFIER_LENGTH = 255;

interface ListView {
  status: ConnectionStatus | null;
  after?: string | undefined;
  notice: Notice | null;
  /** The New connection form as submitted, shown again when it was refused. */
  form: { identifier: string; scopes: string[] } | null;
}

/**
 * Mounts `GET /`, `POST /connections` and `GET /connections`.
 */
export function connectionsRoutes(app: Hono, d: DashboardContext): void {
  app.get(
    "/",
    // Before the session check: a connect link's return must not be lost on /login.
    (c, next) => (isLanding(c) ? landing(d, c) : next()),
    signedIn(d),
    (c) => showList(d, c),
  );
  app.post("/connections", checkedForm(d, "user"), (c) => createConnection(d, c));
  // The link page is shown once (the token is not kept), so its URL leads back to the list.
  app.get("/connections", (c) => c.redirect(d.base || "/", 303));
}

async function showList(d: DashboardContext, c: Context<SignedInEnv>): Promise<Response> {
  const status = CONNECTION_STATUSES.find((s) => s === c.req.query("status")) ?? null;
  const after = c.req.query("after");
  return render(
    c,
    await listView(d, c.var.session, {
      status,
      after: after && IDENTIFIER_PATTERN.test(after) ? after : undefined,
      notice: null,
      form: null,
    }),
  );
}

async function listView(d: DashboardContext, session: DashboardSession, view: ListView): Promise<Html> {
  const { store } = d.ctx;
  const [page, counts] = await Promise.all([
    store.listConnections({ limit: PAGE_SIZE, after: view.after, status: view.status ?? undefined }),
    store.countConnectionsByStatus(),
  ]);
  return connectionsPage(d.chrome("Connections", session), {
    csrf: d.sessions().csrfToken(session),
    connections: page.items,
    counts,
    status: view.status,
    nextCursor: page.nextCursor,
    scopes: [...d.ctx.integration.scopes],
    notice: view.notice,
    form: view.form,
  });
}

/** New connection: the link page, or the list again with the form and what was wrong with it. */
async function createConnection(d: DashboardContext, c: Context<FormEnv>): Promise<Response> {
  const { session, form } = c.var;
  const identifier = typeof form.identifier === "string" ? form.identifier.trim() : "";
  const picked = [form.scopes ?? []].flat().filter((s): s is string => typeof s === "string");
  try {
    checkNewConnection(identifier, picked);
    const created = await createConnectSession(d.ctx, {
      identifier,
      scopes: picked,
      returnUrl: returnUrlFor(d, identifier),
    });
    return render(
      c,
      connectLinkPage(d.chrome("Connect link", session), {
        identifier,
        url: created.url,
        expiresAt: new Date(created.expires_at),
        reconnect: false,
      }),
    );
  } catch (error) {
    if (!isAirlockError(error, "invalid_input")) throw error;
    return render(
      c,
      await listView(d, session, {
        status: null,
        notice: { kind: "error", message: error.message, hint: error.hint },
        form: { identifier, scopes: picked },
      }),
      400,
    );
  }
}

/** What the dashboard says before createConnectSession would: its own rules, said for a person. */
function checkNewConnection(identifier: string, scopes: string[]): void {
  // The same rule as the API's schema (createConnectSession checks it), said precisely for length.
  if (identifier.length > MAX_IDENTIFIER_LENGTH) {
    throw new AirlockError(
      "invalid_input",
      `The identifier is ${identifier.length} characters long; at most ${MAX_IDENTIFIER_LENGTH} are allowed.`,
      { hint: "Use a shorter id for the end user, e.g. their user id in your app." },
    );
  }
  if (scopes.length === 0) {
    throw new AirlockError("invalid_input", "Pick at least one scope.", {
      hint: "Tick the scopes the connection needs; schema.bases:read is required for the Try it panel.",
    });
  }
}
