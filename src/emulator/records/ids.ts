/**
 * Ids for what writes create (records, select choices, attachments): Airtable's shape, random so
 * they never collide with the seeded sample ids (airtable-ids.ts makes and checks them).
 */
import { isAirtableId, newAirtableId } from "../airtable-ids.js";

export function newId(prefix: "rec" | "sel" | "att"): string {
  return newAirtableId(prefix);
}

/** Whether a string has the shape of a record id (`rec` and 14 alphanumerics). */
export function isRecordId(value: string): boolean {
  return isAirtableId("rec", value);
}
