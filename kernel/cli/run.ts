import { createSecretManagerPlugin } from "../../plugin/plugin.js";
import type { PluginStatus } from "../../plugin/types.js";
import { formatRows, formatStatus, styleFor } from "../format.js";
import { createKernel, type CellResult } from "../kernel.js";
import { EXIT, notebookDir, out, parseCommand, UsageError } from "./args.js";
import { HELP } from "./help.js";

/** Whether the notebook asked for secrets and did not get them (exit code 3). */
export function secretsMissing(status: PluginStatus): boolean {
  return status.configError !== null || (status.configured && (status.fetchError !== null || status.fetchedAt === null));
}

/** One line: how many cells ran and whether the secrets were loaded. */
export function summary(results: CellResult[], status: PluginStatus): string {
  const failed = results.filter((r) => !r.ok).length;
  const cells = `${results.length} cell(s) ran${failed > 0 ? `, ${failed} failed` : ", all ok"}`;
  const secrets = !status.configured && status.configError === null ? "no [secret_manager]" : secretsMissing(status) ? `secrets NOT loaded: ${status.error ?? "no successful fetch"}` : `secrets loaded from ${status.provider?.toUpperCase()}`;
  return `${cells}; ${secrets}`;
}

/** `strata-secrets run <dir>`: every cell once, then the rows and the status. */
export async function runCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand("run", args, { json: { type: "boolean" }, "keep-going": { type: "boolean" }, timeout: { type: "string" } });
  if (values.help) return out(HELP["run"]!), EXIT.ok;
  const dir = await notebookDir(positionals[0]);
  const timeout = typeof values["timeout"] === "string" ? Number(values["timeout"]) : 20_000;
  if (!(timeout > 0)) throw new UsageError("--timeout takes a positive number of milliseconds");
  const style = styleFor(process.stdout);
  const plugin = createSecretManagerPlugin({ notebookDir: dir, watch: false, fetchTimeoutMs: timeout });
  const kernel = createKernel({ notebookDir: dir, plugins: [plugin], echo: !values["json"] });
  try {
    await plugin.open();
    const results = await kernel.runAll({
      keepGoing: values["keep-going"] === true,
      onWarning: (w) => void process.stderr.write(`strata-secrets: warning: notebook.toml: ${w}\n`),
      onCell: (cell) => void (values["json"] ? null : out(style.bold(`── ${cell.id} (${cell.language}) ──`))),
    });
    const rows = plugin.rows();
    const status = plugin.status();
    kernel.close();
    if (values["json"]) {
      out(JSON.stringify({ cells: results.map(({ durationMs, ...r }) => ({ ...r, durationMs: Math.round(durationMs) })), rows, status, summary: summary(results, status) }, null, 2));
    } else {
      for (const r of results.filter((x) => !x.ok)) out(style.red(`cell ${r.id} failed: ${r.error}`));
      out(`\n${style.bold("Env")}\n${formatRows(rows, style)}\n\n${formatStatus(status, style)}\n\n${summary(results, status)}`);
    }
    if (secretsMissing(status)) return EXIT.secrets;
    return results.every((r) => r.ok) ? EXIT.ok : EXIT.failed;
  } finally {
    kernel.close();
    await plugin.close();
  }
}
