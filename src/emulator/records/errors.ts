/**
 * The error bodies of Airtable's record endpoints, each with the type the Web API reference and
 * observed answers use (docs/airtable-web-api/records.md says which are confirmed). All are 422
 * unless the function says otherwise.
 */
import type { ApiErrorBody } from "../api-errors.js";

function error(type: string, message: string): ApiErrorBody {
  return { error: { type, message } };
}

/** A body that is not JSON. */
export const INVALID_REQUEST_BODY = error("INVALID_REQUEST_BODY", "Could not parse request body");

/** A body or query of the wrong shape (unknown key, wrong type). */
export const PARAMETER_VALIDATION_FAILED = error(
  "INVALID_REQUEST_UNKNOWN",
  "Invalid request: parameter validation failed. Check your request data.",
);

export function invalidRequest(message: string): ApiErrorBody {
  return error("INVALID_REQUEST_UNKNOWN", message);
}

export function missingFields(): ApiErrorBody {
  return error("INVALID_REQUEST_MISSING_FIELDS", 'Could not find field "fields" in the request body');
}

export function tooManyRecords(verb: "created" | "updated", count: number): ApiErrorBody {
  return error(
    "INVALID_RECORDS",
    `A maximum of 10 records can be ${verb} per request but you have provided ${count}.`,
  );
}

export const INVALID_DELETE_IDS = error(
  "INVALID_RECORDS",
  '"records" must be an array of up to 10 record IDs.',
);

export function rowDoesNotExist(recordId: string): ApiErrorBody {
  return error("ROW_DOES_NOT_EXIST", `Record ID ${recordId} does not exist in this table`);
}

/** 404: a single record that is not in the table. */
export const RECORD_NOT_FOUND = error("NOT_FOUND", "Record not found");

export function unknownFieldName(name: string): ApiErrorBody {
  return error("UNKNOWN_FIELD_NAME", `Unknown field name: ${JSON.stringify(name)}`);
}

export function invalidValueForColumn(fieldName: string, why?: string): ApiErrorBody {
  return error(
    "INVALID_VALUE_FOR_COLUMN",
    why === "computed"
      ? `Field ${JSON.stringify(fieldName)} cannot accept a value because the field is computed`
      : `Field ${JSON.stringify(fieldName)} cannot accept the provided value${why ? `: ${why}` : ""}`,
  );
}

export function invalidChoice(choice: string): ApiErrorBody {
  return error(
    "INVALID_MULTIPLE_CHOICE_OPTIONS",
    `Insufficient permissions to create new select option ""${choice}""`,
  );
}

export function invalidPageSize(): ApiErrorBody {
  return error("INVALID_PAGE_SIZE_ARGUMENT", "The pageSize must be an integer from 1 to 100.");
}

export function viewNotFound(view: string): ApiErrorBody {
  return error("VIEW_NAME_NOT_FOUND", `Could not find view ${JSON.stringify(view)}`);
}

export function invalidFilterByFormula(message: string): ApiErrorBody {
  return error("INVALID_FILTER_BY_FORMULA", message);
}

export const INVALID_OFFSET_VALUE = error("INVALID_OFFSET_VALUE", "The offset is invalid.");

export const ITERATOR_NOT_AVAILABLE = error(
  "LIST_RECORDS_ITERATOR_NOT_AVAILABLE",
  "The offset is no longer valid: the records changed since it was issued. List again from the start.",
);

/** A step's value, or the error body to answer with. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: ApiErrorBody };

export function failed(error: ApiErrorBody): { ok: false; error: ApiErrorBody } {
  return { ok: false, error };
}
