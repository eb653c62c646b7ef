/** 20000 -> "20s", 1500 -> "1.5s". */
export function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`;
}

/** The message of a fetch that did not finish in time. */
export function deadlineMessage(ms: number): string {
  return `The secret manager did not answer within ${formatSeconds(ms)}.`;
}
