/**
 * Ids for what writes create (records, select choices, attachments): Airtable's shape, a prefix and
 * 14 alphanumerics, random so they never collide with the seeded sample ids.
 */
import { randomInt } from "node:crypto";

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

export function newId(prefix: "rec" | "sel" | "att"): string {
  let id = prefix;
  for (let i = 0; i < 14; i++) id += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return id;
}

/** Whether a string has the shape of a record id (`rec` and 14 alphanumerics). */
export function isRecordId(value: string): boolean {
  return /^rec[A-Za-z0-9]{14}$/.test(value);
}
