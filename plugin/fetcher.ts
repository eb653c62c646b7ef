import type { Registry } from "./registry.js";
import { runProvider } from "./registry.js";
import type { Session } from "./session.js";
import { SingleFlight } from "./single-flight.js";
import type { PluginEvent } from "./types.js";

export interface FetcherDeps {
  session: Session;
  registry: Registry;
  timeoutMs: number;
  notebookDir: string;
  /** After every fetch (applied, failed or discarded): the poller schedules the next one. */
  onSettled?: () => void;
  /** Aborted when the plugin closes. */
  signal: AbortSignal;
  mask: (text: string) => string;
  emit: (event: PluginEvent) => void;
}

/**
 * Fetches the `[secret_manager]` in force into the session: one fetch in flight (triggers
 * join it), a config change queues exactly one more, a result for an outdated config is
 * discarded and fetched again.
 */
export function createFetcher(deps: FetcherDeps): SingleFlight {
  const { session, registry, signal } = deps;
  const flight: SingleFlight = new SingleFlight(async () => {
    try {
      const target = session.fetchTarget();
      if (!target) return session.clearFetch();
      deps.emit({ type: "fetch-started", provider: target.section.source });
      const result = await runProvider(registry, target.section.provider, target.section.settings, { signal, timeoutMs: deps.timeoutMs, notebookDir: deps.notebookDir });
      if (signal.aborted) return;
      if (result.error !== null) result.error = deps.mask(result.error);
      if (session.applyFetch(result, target) === "outdated") flight.again();
    } finally {
      if (!signal.aborted) deps.onSettled?.();
    }
  });
  return flight;
}
