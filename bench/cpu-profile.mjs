/**
 * Preload for profiling a child process where `--cpu-prof` is not allowed in NODE_OPTIONS:
 * `NODE_OPTIONS="--import=./bench/cpu-profile.mjs" BENCH_PROFILE_DIR=/tmp/prof node …` writes a
 * `.cpuprofile` (open it in Chrome DevTools) when the process receives SIGTERM or exits.
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { join } from "node:path";

const dir = process.env.BENCH_PROFILE_DIR ?? "/tmp/airlock-prof";
mkdirSync(dir, { recursive: true });
const session = new Session();
session.connect();
session.post("Profiler.enable");
session.post("Profiler.setSamplingInterval", { interval: 200 });
session.post("Profiler.start");
let written = false;
function write() {
  if (written) return;
  written = true;
  session.post("Profiler.stop", (error, result) => {
    if (!error) writeFileSync(join(dir, `service-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
  });
}
process.prependListener("SIGTERM", write);
process.on("exit", write);
