/**
 * Airtable's id shape (a three-letter prefix and 14 alphanumerics: `tbl…`, `fld…`, `sel…`, `com…`)
 * for the ids the emulator mints while it runs, and the check of ids users hand it.
 */
import { randomInt } from "node:crypto";

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A fresh random id with Airtable's shape; `taken` ids are never returned. */
export function newAirtableId(prefix: string, taken: (id: string) => boolean = () => false): string {
  for (;;) {
    let id = prefix;
    for (let i = 0; i < 14; i++) id += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
    if (!taken(id)) return id;
  }
}

/** Whether `id` has Airtable's shape for `prefix` (e.g. `isAirtableId("tbl", "tblAbc…")`). */
export function isAirtableId(prefix: string, id: string): boolean {
  return id.length === 17 && id.startsWith(prefix) && /^[A-Za-z0-9]{14}$/.test(id.slice(3));
}
