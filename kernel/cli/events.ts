import type { PluginEvent } from "../../plugin/types.js";

/** One line per reload, fetch and error (names only), or null for events not worth a line. */
export function describeEvent(e: PluginEvent): string | null {
  switch (e.type) {
    case "config-reloaded":
      return `reloaded notebook.toml (${[e.secretManagerChanged ? "[secret_manager]" : "", e.envChanged ? "[env]" : ""].filter(Boolean).join(", ")} changed)`;
    case "secrets-fetched": {
      const parts = [...e.added.map((k) => `+${k}`), ...e.changed.map((k) => `~${k}`), ...e.removed.map((k) => `-${k}`)];
      return `fetched from ${e.provider.toUpperCase()}: ${parts.length ? parts.join(" ") : "no changes"}`;
    }
    case "fetch-failed":
      return `fetch failed: ${e.error}`;
    case "config-invalid":
      return `config error: ${e.error}`;
    case "cells-stale":
      return `stale: ${e.cells.map((c) => `${c.id} ran with an older ${c.keys.join(", ")}`).join("; ")}`;
    default:
      return null;
  }
}

/** `[12:34:56.789] line` */
export function stamped(line: string): string {
  return `[${new Date().toISOString().slice(11, 23)}] ${line}`;
}
