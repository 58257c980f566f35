import type { Output } from "./output.js";

/** What every built-in command receives: streams, environment and a cancellation signal. */
export interface CommandContext {
  output: Output;
  env: NodeJS.ProcessEnv;
  stdin: NodeJS.ReadableStream;
  /** Aborted on Ctrl-C (SIGINT) or SIGTERM. */
  signal: AbortSignal;
}

export type Command = (argv: string[], context: CommandContext) => Promise<number>;
