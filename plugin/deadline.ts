/** 20000 -> "20s", 1500 -> "1.5s". */
export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`;
}

/** The message of a fetch that did not finish in time. */
export function deadlineMessage(ms: number): string {
  return `The secret manager did not answer within ${formatSeconds(ms)}.`;
}

/**
 * A child AbortController that follows `parent` until `dispose()`. Unlike
 * `AbortSignal.any`, it leaves nothing attached to a long-lived parent signal once
 * disposed (on Node 20, signals combined with `any` stay reachable from their sources).
 */
export function childController(parent: AbortSignal): { controller: AbortController; dispose: () => void } {
  const controller = new AbortController();
  const follow = () => controller.abort(parent.reason);
  if (parent.aborted) follow();
  else parent.addEventListener("abort", follow, { once: true });
  return { controller, dispose: () => parent.removeEventListener("abort", follow) };
}
