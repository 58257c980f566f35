/**
 * The test clocks. `TestClock` is the one clock a test moves by hand inside this process (hand its
 * `now` to a TokenManager, a service's `start.now`, …); `FakeClock` moves the clock of child
 * processes (libfaketime reads its file).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { libfaketime } from "./faketime.js";

/**
 * A clock a test moves by hand. Stopped by default: it starts at the real time (so the emulator and
 * the store agree roughly) and moves only when the test says so, however slow the machine is.
 * `{ running: true }`: real time plus what the test added, for code that also waits in real time.
 *
 * @example
 * const clock = new TestClock();
 * clock.advance(61 * 60_000);
 * const service = await startTestService({ start: { now: new TestClock({ running: true }).now } });
 */
export class TestClock {
  readonly #stoppedAt: number | undefined;
  #offsetMs = 0;

  constructor(options: { running?: boolean } = {}) {
    this.#stoppedAt = options.running ? undefined : Date.now();
  }

  readonly now = (): Date => new Date((this.#stoppedAt ?? Date.now()) + this.#offsetMs);

  /** Moves the clock by `ms` (negative: back). */
  advance(ms: number): void {
    this.#offsetMs += ms;
  }
}

/**
 * A clock offset for one or more child processes, changeable while they run: libfaketime re-reads
 * the file on every time call (FAKETIME_NO_CACHE). Monotonic time is left alone so timers still work.
 */
export class FakeClock {
  readonly file: string;
  #offsetSeconds = 0;

  constructor(dir: string, name: string) {
    this.file = join(dir, `clock-${name}`);
    writeFileSync(this.file, "+0\n");
  }

  get offsetSeconds(): number {
    return this.#offsetSeconds;
  }

  /** Moves this clock forward by `seconds` (cumulative). */
  advance(seconds: number): void {
    this.#offsetSeconds += seconds;
    writeFileSync(this.file, `+${this.#offsetSeconds}\n`);
  }

  /** The environment that puts a child process on this clock. */
  env(): Record<string, string> {
    return {
      LD_PRELOAD: libfaketime(),
      FAKETIME_TIMESTAMP_FILE: this.file,
      FAKETIME_NO_CACHE: "1",
      FAKETIME_DONT_FAKE_MONOTONIC: "1",
    };
  }
}
