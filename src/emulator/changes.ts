/**
 * What changed in a base, as the Web API's writes report it. Records and schema routes emit; the
 * webhooks hub listens (payloads, notification pings). Kept apart so neither side imports the other.
 */

/** One record as it was or is: its id and its cell values by field id. */
export interface RecordSnapshot {
  id: string;
  createdTime: string;
  /** Cell values keyed by field id (webhook payloads speak in field ids). */
  cellValuesByFieldId: Record<string, unknown>;
}

export type BaseChange =
  | { kind: "records.created"; baseId: string; tableId: string; records: RecordSnapshot[] }
  | {
      kind: "records.changed";
      baseId: string;
      tableId: string;
      changes: { before: RecordSnapshot; after: RecordSnapshot }[];
    }
  | { kind: "records.destroyed"; baseId: string; tableId: string; recordIds: string[] }
  | { kind: "table.created" | "table.changed"; baseId: string; tableId: string }
  | { kind: "field.created" | "field.changed"; baseId: string; tableId: string; fieldId: string };

/** Who made the change (the token's user and the integration), as webhook payloads report it. */
export interface ChangeSource {
  userId: string;
  /** The OAuth client id of the token, or "control" for the emulator's control API. */
  clientId: string;
}

export type ChangeListener = (change: BaseChange, source: ChangeSource) => void;

/** A synchronous fan-out: listeners run in the writer's turn, before its response is sent. */
export class ChangeFeed {
  readonly #listeners = new Set<ChangeListener>();

  /** Adds a listener; returns the function that removes it. */
  subscribe(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(change: BaseChange, source: ChangeSource): void {
    for (const listener of this.#listeners) listener(change, source);
  }
}
