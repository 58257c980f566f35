/**
 * A table and a record for the formula tests: one field of each kind a formula treats differently,
 * and a fixed clock (2024-01-10T12:34:56Z, a Wednesday).
 */
import { compileFormula } from "./compile.js";
import type { FormulaContext, FormulaField, FormulaRecord } from "./types.js";

export const TEST_FIELDS: FormulaField[] = [
  { id: "fldName", name: "Name", type: "singleLineText" },
  { id: "fldNotes", name: "Notes", type: "multilineText" },
  { id: "fldPriority", name: "Priority", type: "number" },
  { id: "fldEstimate", name: "Estimate", type: "currency" },
  { id: "fldEmpty", name: "Empty number", type: "number" },
  { id: "fldDue", name: "Due", type: "date" },
  { id: "fldStart", name: "Starts at", type: "dateTime" },
  { id: "fldTags", name: "Tags", type: "multipleSelects" },
  { id: "fldShipped", name: "Shipped", type: "checkbox" },
  { id: "fldDone", name: "Done", type: "checkbox" },
  { id: "fldOwner", name: "Owner", type: "singleCollaborator" },
  { id: "fldFiles", name: "Files", type: "multipleAttachments" },
  { id: "fldLinks", name: "Releases", type: "multipleRecordLinks" },
  {
    id: "fldLookup",
    name: "Release dates",
    type: "multipleLookupValues",
    options: { result: { type: "date" } },
  },
  { id: "fldScores", name: "Scores", type: "multipleLookupValues", options: { result: { type: "number" } } },
];

export const TEST_RECORD: FormulaRecord = {
  id: "recTestRecord0001",
  createdTime: "2024-01-02T03:04:05.000Z",
  fields: {
    Name: "Feature 12",
    Priority: 3,
    Estimate: 1250.5,
    Due: "2024-01-05",
    "Starts at": "2024-01-05T09:30:00.000Z",
    Tags: ["Backend", "Urgent"],
    Done: true,
    Owner: { id: "usrAda", email: "ada@example.com", name: "Ada Lovelace" },
    Files: [{ id: "attA", url: "https://files.example.com/a.png", filename: "a.png" }],
    Releases: ["recRelease00001"],
    "Release dates": ["2024-02-01", "2024-03-01"],
    Scores: [2, 5, 8],
  },
};

export const TEST_CONTEXT: FormulaContext = { now: new Date("2024-01-10T12:34:56.000Z") };

/** The formula's Web API value for the test record (or `record`), on the test clock. */
export function evaluateFormula(
  source: string,
  record: FormulaRecord = TEST_RECORD,
  context: FormulaContext = TEST_CONTEXT,
): unknown {
  return compileFormula(source, TEST_FIELDS).evaluate(record, context);
}

/** Whether the test record (or `record`) passes the formula as a filter. */
export function passesFilter(source: string, record: FormulaRecord = TEST_RECORD): boolean {
  return compileFormula(source, TEST_FIELDS).matches(record, TEST_CONTEXT);
}

/** The 422 message compiling `source` against the test table throws, or undefined. */
export function compileError(source: string): string | undefined {
  try {
    compileFormula(source, TEST_FIELDS);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
