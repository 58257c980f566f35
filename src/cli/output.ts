/**
 * The CLI's only way to write: results go to stdout, messages to stderr. Commands receive an
 * `Output` so tests can capture both streams and nothing writes through `console`.
 */
export interface Output {
  /** A result line on stdout (what a script pipes or captures). */
  out(text: string): void;
  /** A human message line on stderr. */
  err(text: string): void;
  /** Whether stdout is a terminal (tables for people, JSON for machines). */
  readonly isTTY: boolean;
}

/**
 * The process's real streams.
 */
export function processOutput(): Output {
  return {
    out: (text) => {
      process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
    },
    err: (text) => {
      process.stderr.write(text.endsWith("\n") ? text : `${text}\n`);
    },
    isTTY: process.stdout.isTTY === true,
  };
}

/**
 * An Output that collects lines in memory (tests).
 */
export function memoryOutput(isTTY = false): { output: Output; stdout(): string; stderr(): string } {
  let stdout = "";
  let stderr = "";
  return {
    output: {
      out: (text) => {
        stdout += text.endsWith("\n") ? text : `${text}\n`;
      },
      err: (text) => {
        stderr += text.endsWith("\n") ? text : `${text}\n`;
      },
      isTTY,
    },
    stdout: () => stdout,
    stderr: () => stderr,
  };
}

/**
 * A count with its noun, singular for one: "1 view", "3 views", "0 bases".
 */
export function countOf(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
