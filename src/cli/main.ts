#!/usr/bin/env node
/** The `airlock` executable: wires the process's streams, signals and exit code to `runCli`. */
import { AirlockError } from "../shared/errors.js";
import { criticalSectionsDone, inCriticalSection } from "./critical.js";
import { ExitCode } from "./exit-codes.js";
import { processOutput } from "./output.js";
import { isDelegatedCommand, runCli } from "./run.js";

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const delegated = isDelegatedCommand(argv[0]);
  const controller = new AbortController();
  if (!delegated) {
    // Built-in commands observe the signal (login closes its port and exits 130). If one does not
    // finish promptly, leave anyway, but never in the middle of saving a rotated refresh token.
    const leave = () => void criticalSectionsDone().then(() => process.exit(ExitCode.interrupted));
    const onSignal = (signal: NodeJS.Signals) => {
      if (controller.signal.aborted) {
        if (inCriticalSection()) process.stderr.write("Saving the refreshed token before exiting…\n");
        leave();
        return;
      }
      controller.abort(
        new AirlockError("cancelled", `Interrupted (${signal}).`, { hint: "Nothing was saved." }),
      );
      setTimeout(leave, 2000).unref();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  }
  const code = await runCli(argv, {
    output: processOutput(),
    env: process.env,
    stdin: process.stdin,
    signal: controller.signal,
  });
  // Exit explicitly: keep-alive sockets or a paused stdin must not keep `airlock token` alive.
  process.exit(code);
}

await main();
