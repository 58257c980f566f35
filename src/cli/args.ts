import { type ParseArgsConfig, parseArgs } from "node:util";
import { AirlockError } from "../shared/errors.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

type FlagValue<F extends Options[string]> = F["type"] extends "boolean" ? boolean : string;

export interface ParsedArgs<O extends Options> {
  values: { [K in keyof O]?: O[K]["multiple"] extends true ? FlagValue<O[K]>[] : FlagValue<O[K]> };
  positionals: string[];
}

/**
 * Strict flag parsing for one command: unknown flags, missing values and unexpected positionals
 * become an `invalid_input` AirlockError that names the flag and the fix.
 */
export function parseCommandArgs<O extends Options>(
  command: string,
  argv: string[],
  options: O,
  maxPositionals: number,
): ParsedArgs<O> {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (error) {
    throw usageError(command, describeParseError(error));
  }
  if (parsed.positionals.length > maxPositionals) {
    const extra = parsed.positionals.slice(maxPositionals).join(" ");
    throw usageError(command, `Unexpected argument "${extra}".`);
  }
  return parsed as ParsedArgs<O>;
}

/**
 * A usage error that points at the command's help.
 */
export function usageError(command: string, message: string): AirlockError {
  return new AirlockError("invalid_input", message, {
    hint: `Run \`airlock ${command} --help\` to see its flags.`,
  });
}

function describeParseError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // node:util messages are good but long ("… To specify a positional argument starting with a '-' …").
  const unknown = /Unknown option '([^']+)'/.exec(message);
  if (unknown) return `Unknown flag ${unknown[1]}.`;
  const missing = /Option '([^']+)'.* argument missing/.exec(message);
  if (missing) return `Flag ${firstFlag(missing[1]!)} needs a value.`;
  const notValue = /Option '([^']+)' does not take an argument/.exec(message);
  if (notValue) return `Flag ${firstFlag(notValue[1]!)} does not take a value.`;
  return message;
}

function firstFlag(spec: string): string {
  // node reports "-p, --profile <value>"; keep the long name.
  const long = /--[A-Za-z0-9-]+/.exec(spec);
  return long ? long[0] : spec;
}

/**
 * Parses a positive integer flag value within bounds.
 */
export function parseIntegerFlag(
  command: string,
  flag: string,
  raw: string,
  min: number,
  max: number,
): number {
  if (!/^\d+$/.test(raw)) throw usageError(command, `${flag} must be a whole number, got "${raw}".`);
  const value = Number(raw);
  if (value < min || value > max) {
    throw usageError(command, `${flag} must be between ${min} and ${max}, got ${value}.`);
  }
  return value;
}
