/** In-process fan-out of "connection changed" signals, shared by both dialects. */
import type { Logger } from "../shared/log.js";

export type ConnectionListener = (identifier: string, version: number) => void;

/** Calls every listener for each change; a listener that throws is logged, never the writer's problem. */
export class ChangeFeed {
  readonly #listeners = new Set<ConnectionListener>();
  readonly #log: Logger;

  constructor(log: Logger) {
    this.#log = log;
  }

  get size(): number {
    return this.#listeners.size;
  }

  subscribe(listener: ConnectionListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  emit(identifier: string, version: number): void {
    for (const listener of this.#listeners) {
      try {
        listener(identifier, version);
      } catch (err) {
        // A listener's bug must not break the write that announced the change.
        this.#log.error({ err, identifier }, "connection change listener failed");
      }
    }
  }
}
