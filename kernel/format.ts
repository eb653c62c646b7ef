import type { EnvRow, PluginStatus } from "../plugin/types.js";

export interface Style {
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  dim(s: string): string;
  bold(s: string): string;
}

/** Colors only on a TTY, and never with NO_COLOR set. */
export function styleFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): Style {
  const on = stream.isTTY === true && !("NO_COLOR" in env) && env["TERM"] !== "dumb";
  const wrap = (open: number, close: number) => (s: string) => (on ? `\u001b[${open}m${s}\u001b[${close}m` : s);
  return { green: wrap(32, 39), red: wrap(31, 39), yellow: wrap(33, 39), dim: wrap(2, 22), bold: wrap(1, 22) };
}

/** The env rows as a table: key, source badge, hidden/shown, stale/refused. Never a value. */
export function formatRows(rows: EnvRow[], style: Style): string {
  if (rows.length === 0) return style.dim("  (no env rows)");
  const width = Math.max(...rows.map((r) => r.key.length), 3);
  return rows
    .map((r) => {
      const badge = r.source === "manual" ? style.dim("manual    ") : style.green(r.source.toUpperCase().padEnd(10));
      const shown = r.hidden ? "hidden" : "shown ";
      const notes = [r.stale ? style.yellow("stale") : "", r.refused ? style.red(`refused: ${r.refused}`) : ""].filter(Boolean).join(" ");
      return `  ${r.key.padEnd(width)}  ${badge}  ${shown}${notes ? `  ${notes}` : ""}`;
    })
    .join("\n");
}

/** The Secret manager block of the Runtime panel. */
export function formatStatus(status: PluginStatus, style: Style): string {
  if (!status.configured && !status.configError) return `  Secret manager: ${style.dim("not configured")}`;
  const lines = [`  Secret manager: ${status.provider ?? style.red("(no provider)")}`];
  if (status.fetchedAt) lines.push(`  Last fetched:   ${status.fetchedAt}`);
  if (status.configError) lines.push(`  Config error:   ${style.red(status.configError)}`);
  if (status.fetchError) lines.push(`  Fetch error:    ${style.red(status.fetchError)}`);
  return lines.join("\n");
}
