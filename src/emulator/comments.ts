/**
 * Record comments under `data.recordComments:read` / `data.recordComments:write`
 * [list-comments, create-comment, update-comment, delete-comment]: kept per emulator, newest first
 * as Airtable lists them, on records that exist.
 */
import type { Context, Hono } from "hono";
import { z } from "zod";
import { newAirtableId } from "./airtable-ids.js";
import { readApiBody } from "./api-body.js";
import { type ApiEnv, baseFor, decodeOffset, encodeOffset, fail, positiveInt } from "./api-context.js";
import { INVALID_PERMISSIONS, invalidRequest, NOT_FOUND } from "./api-errors.js";
import { RECORD_NOT_FOUND } from "./records/errors.js";
import { findTable, type SampleRecord, type SampleUser } from "./sample-data.js";
import type { EmulatorState } from "./state.js";

/** Airtable's cap on `pageSize` for list comments. */
export const MAX_COMMENTS_PAGE_SIZE = 100;

interface StoredComment {
  id: string;
  author: SampleUser;
  text: string;
  createdTime: string;
  lastUpdatedTime: string | null;
}

/** Comments by record id, per emulator; dropped when the emulator is reset. */
const stores = new WeakMap<EmulatorState, Map<string, StoredComment[]>>();

function commentsOf(state: EmulatorState, recordId: string): StoredComment[] {
  let store = stores.get(state);
  if (!store) {
    const created = new Map<string, StoredComment[]>();
    stores.set(state, created);
    state.onReset(() => created.clear());
    store = created;
  }
  const list = store.get(recordId) ?? [];
  store.set(recordId, list);
  return list;
}

/** `@[usr…]` in the text mentions a user; the answer then describes each one it knows. */
function mentionsOf(text: string, user: SampleUser) {
  const ids = new Set([...text.matchAll(/@\[(usr[A-Za-z0-9]{14})\]/g)].map((m) => m[1]));
  if (!ids.has(user.id)) return undefined;
  return { [user.id]: { type: "user", id: user.id, displayName: user.name, email: user.email } };
}

function commentModel(comment: StoredComment) {
  const mentioned = mentionsOf(comment.text, comment.author);
  return {
    id: comment.id,
    author: { id: comment.author.id, email: comment.author.email, name: comment.author.name },
    text: comment.text,
    createdTime: comment.createdTime,
    lastUpdatedTime: comment.lastUpdatedTime,
    ...(mentioned ? { mentioned } : {}),
  };
}

/** Writing a comment needs at least comment permission on the base. */
const CAN_COMMENT = new Set(["comment", "edit", "create"]);

/** The record a comment route names (base gate, scope, table, record), or the error answer. */
function recordFor(c: Context<ApiEnv>, state: EmulatorState, write: boolean): SampleRecord | Response {
  const base = baseFor(c, state, write ? "data.recordComments:write" : "data.recordComments:read");
  if (base instanceof Response) return base;
  if (write && !CAN_COMMENT.has(base.permissionLevel)) return fail(c, INVALID_PERMISSIONS, 403);
  const table = findTable(base, c.req.param("tableIdOrName") ?? "");
  if (!table) return fail(c, NOT_FOUND, 404);
  const recordId = c.req.param("recordId");
  // The same answer as the records endpoints give for a record that is not in the table.
  return table.records.find((r) => r.id === recordId) ?? fail(c, RECORD_NOT_FOUND, 404);
}

/** `GET …/:recordId/comments`: newest first, `pageSize` ≤ 100, `offset` from the previous page. */
function listComments(c: Context<ApiEnv>, state: EmulatorState): Response {
  const record = recordFor(c, state, false);
  if (record instanceof Response) return record;
  const pageSize = positiveInt(c.req.query("pageSize"));
  if (pageSize === "invalid" || (pageSize !== undefined && pageSize > MAX_COMMENTS_PAGE_SIZE)) {
    return fail(
      c,
      invalidRequest(`The pageSize must be an integer from 1 to ${MAX_COMMENTS_PAGE_SIZE}.`),
      422,
    );
  }
  const comments = commentsOf(state, record.id);
  const offset = c.req.query("offset");
  const start = offset === undefined ? 0 : decodeOffset(offset, record.id, (i) => comments[i]?.id);
  if (start === undefined) return fail(c, invalidRequest("The offset is invalid or expired."), 422);
  const end = start + (pageSize ?? MAX_COMMENTS_PAGE_SIZE);
  const next = comments[end];
  return c.json({
    comments: comments.slice(start, end).map(commentModel),
    offset: next ? encodeOffset(record.id, end, next.id) : null,
  });
}

const textBody = z.strictObject({ text: z.string().min(1) });

/** `POST …/:recordId/comments {text}`: a comment by the token's user, listed first from now on. */
async function createComment(c: Context<ApiEnv>, state: EmulatorState): Promise<Response> {
  const record = recordFor(c, state, true);
  if (record instanceof Response) return record;
  const body = await readApiBody(c, textBody);
  if (body instanceof Response) return body;
  const comments = commentsOf(state, record.id);
  const comment: StoredComment = {
    id: newAirtableId("com", (id) => comments.some((existing) => existing.id === id)),
    author: state.data.user,
    text: body.text,
    createdTime: new Date(state.clock.now()).toISOString(),
    lastUpdatedTime: null,
  };
  comments.unshift(comment);
  return c.json(commentModel(comment));
}

/** The comment a PATCH or DELETE names, with its list, or the 404. */
function commentFor(c: Context<ApiEnv>, state: EmulatorState) {
  const record = recordFor(c, state, true);
  if (record instanceof Response) return record;
  const comments = commentsOf(state, record.id);
  const index = comments.findIndex((comment) => comment.id === c.req.param("rowCommentId"));
  const comment = comments[index];
  return comment ? { comments, index, comment } : fail(c, NOT_FOUND, 404);
}

/** `PATCH …/comments/:rowCommentId {text}`: new text; `lastUpdatedTime` set. */
async function updateComment(c: Context<ApiEnv>, state: EmulatorState): Promise<Response> {
  const found = commentFor(c, state);
  if (found instanceof Response) return found;
  const body = await readApiBody(c, textBody);
  if (body instanceof Response) return body;
  found.comment.text = body.text;
  found.comment.lastUpdatedTime = new Date(state.clock.now()).toISOString();
  return c.json(commentModel(found.comment));
}

/** `DELETE …/comments/:rowCommentId` → `{id, deleted: true}`. */
function deleteComment(c: Context<ApiEnv>, state: EmulatorState): Response {
  const found = commentFor(c, state);
  if (found instanceof Response) return found;
  found.comments.splice(found.index, 1);
  return c.json({ id: found.comment.id, deleted: true });
}

const COMMENTS_PATH = "/v0/:baseId/:tableIdOrName/:recordId/comments";

/** Registers the record comment routes on the /v0 app. */
export function commentRoutes(routes: Hono<ApiEnv>, state: EmulatorState): void {
  routes.get(COMMENTS_PATH, (c) => listComments(c, state));
  routes.post(COMMENTS_PATH, (c) => createComment(c, state));
  routes.patch(`${COMMENTS_PATH}/:rowCommentId`, (c) => updateComment(c, state));
  routes.delete(`${COMMENTS_PATH}/:rowCommentId`, (c) => deleteComment(c, state));
}
