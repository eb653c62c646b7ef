import { sectionKey, type SecretManagerSection } from "./config.js";
import type { Registry } from "./registry.js";

export interface FollowDeps {
  /** The `[secret_manager]` in force, or null. */
  section: () => SecretManagerSection | null;
  /** Whether the last fetch failed (the interval backs off while it does). */
  failing: () => boolean;
  registry: Registry;
  notebookDir: string;
  /** Fetch now: `force` queues one more run after a running one (a source that changed). */
  trigger: (force: boolean) => Promise<void>;
  onError: (error: unknown) => void;
  random?: () => number;
}

/** Back-off while the manager fails: the interval doubles, up to 8 times longer. */
const MAX_BACKOFF = 3;

/**
 * Keeps the values following their source without a Refresh: `refresh_interval` (a timer,
 * re-armed after every fetch with ±10% jitter, never while one runs, backing off while the
 * manager fails) and a provider's own `watch` (files kept by an agent or operator). Both
 * only fetch; the result is applied between cells like any other.
 */
export class SourceFollower {
  readonly #deps: FollowDeps;
  #timer: NodeJS.Timeout | null = null;
  #failures = 0;
  #watchKey = "";
  #watch: { close(): Promise<void> } | null = null;
  #stopped = false;

  constructor(deps: FollowDeps) {
    this.#deps = deps;
  }

  /** After every fetch: re-arm the interval, open or switch the source watch. */
  settled(): void {
    if (this.#stopped) return;
    const section = this.#deps.section();
    this.#arm(section);
    void this.#follow(section);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const w = this.#watch;
    this.#watch = null;
    await w?.close();
  }

  #arm(section: SecretManagerSection | null): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const interval = section?.refreshIntervalMs;
    if (!interval) {
      this.#failures = 0;
      return;
    }
    this.#failures = this.#deps.failing() ? this.#failures + 1 : 0;
    const jitter = 0.9 + 0.2 * (this.#deps.random ?? Math.random)();
    const delay = interval * jitter * 2 ** Math.min(this.#failures, MAX_BACKOFF);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#deps.trigger(false).catch(this.#deps.onError);
    }, delay);
    this.#timer.unref();
  }

  async #follow(section: SecretManagerSection | null): Promise<void> {
    const provider = section ? this.#deps.registry.providers.get(section.provider) : undefined;
    const key = provider?.watch ? sectionKey(section) : "";
    if (key === this.#watchKey) return;
    this.#watchKey = key;
    const old = this.#watch;
    this.#watch = null;
    await old?.close().catch(this.#deps.onError);
    if (!provider?.watch || !section || this.#stopped) return;
    try {
      this.#watch = provider.watch(section.settings, { credentials: this.#deps.registry.credentials.get(section.provider) ?? {}, notebookDir: this.#deps.notebookDir }, () => {
        if (!this.#stopped) this.#deps.trigger(true).catch(this.#deps.onError);
      });
    } catch (error) {
      this.#deps.onError(error);
    }
  }
}
