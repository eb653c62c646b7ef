/**
 * One task in flight at a time. A trigger while it runs joins it; a forced trigger (a
 * config change) also queues exactly one more run after it, however many arrive.
 */
export class SingleFlight {
  readonly #task: () => Promise<void>;
  #inFlight: Promise<void> | null = null;
  #again = false;
  #stopped = false;

  constructor(task: () => Promise<void>) {
    this.#task = task;
  }

  get running(): boolean {
    return this.#inFlight !== null;
  }

  /** Resolves when the current run (and the one more it queued, if any) is done. */
  trigger(force: boolean): Promise<void> {
    if (this.#inFlight) {
      if (force) this.#again = true;
      return this.#inFlight;
    }
    this.#inFlight = (async () => {
      try {
        do {
          this.#again = false;
          await this.#task();
        } while (this.#again && !this.#stopped);
      } finally {
        this.#inFlight = null;
      }
    })();
    return this.#inFlight;
  }

  /** From inside the task: run once more when this run ends (its result was outdated). */
  again(): void {
    this.#again = true;
  }

  stop(): void {
    this.#stopped = true;
  }
}
