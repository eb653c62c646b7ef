import { ErrorCode, StrataSecretsError } from "./errors.js";

/**
 * open()/close() bookkeeping: `open` runs once, `close` runs once and waits for an open()
 * under way, `signal` aborts at close (fetches in flight stop).
 */
export class Lifecycle {
  #opening: Promise<void> | null = null;
  #closing: Promise<void> | null = null;
  readonly #abort = new AbortController();

  get closed(): boolean {
    return this.#abort.signal.aborted;
  }

  /** Aborted when close() starts. */
  get signal(): AbortSignal {
    return this.#abort.signal;
  }

  /** Throws ALREADY_CLOSED after close(). */
  assertOpen(): void {
    if (this.closed) throw new StrataSecretsError(ErrorCode.ALREADY_CLOSED, "The secret manager plugin is closed");
  }

  open(run: () => Promise<void>): Promise<void> {
    this.assertOpen();
    return (this.#opening ??= run());
  }

  /** For saves and refreshes: the notebook must have been read (NOT_OPEN before open()). */
  async opened(): Promise<void> {
    this.assertOpen();
    if (!this.#opening) throw new StrataSecretsError(ErrorCode.NOT_OPEN, "Call open() before this method");
    await this.#opening;
    this.assertOpen();
  }

  close(run: () => Promise<void>): Promise<void> {
    return (this.#closing ??= (async () => {
      this.#abort.abort();
      // An open() still under way stops at its next step (its fetch was just aborted).
      await Promise.allSettled([this.#opening]);
      await run();
    })());
  }
}

/**
 * The plugin's event sink: calls the listener; a listener that throws is reported once on
 * stderr (masked), never allowed to break a reload or a cell.
 */
export function eventSink<E>(listener: ((event: E) => void) | null, mask: (text: string) => string): (event: E) => void {
  let reported = false;
  return (event) => {
    if (!listener) return;
    try {
      listener(event);
    } catch (error) {
      if (reported) return;
      reported = true;
      const message = mask(error instanceof Error ? error.message : String(error));
      process.stderr.write(`strata-secrets: the onEvent listener threw (${message}); later failures of it are not reported\n`);
    }
  };
}
