import type { PluginStatus } from "../../plugin/types.js";
import type { CellResult } from "../kernel.js";

/** Whether the notebook asked for secrets and did not get them (exit code 3). */
export function secretsMissing(status: PluginStatus): boolean {
  return status.configError !== null || (status.configured && (status.fetchError !== null || status.fetchedAt === null));
}

/** One line: how many cells ran and whether the secrets were loaded. */
export function summary(results: CellResult[], status: PluginStatus): string {
  const failed = results.filter((r) => !r.ok).length;
  const late = results.reduce((n, r) => n + (r.lateErrors?.length ?? 0), 0);
  const cells = `${results.length} cell(s) ran${failed > 0 ? `, ${failed} failed` : ", all ok"}${late > 0 ? ` (${late} late error(s) reported)` : ""}`;
  const secrets = !status.configured && status.configError === null ? "no [secret_manager]" : secretsMissing(status) ? `secrets NOT loaded: ${status.error ?? "no successful fetch"}` : `secrets loaded from ${status.provider?.toUpperCase()}`;
  return `${cells}; ${secrets}`;
}
