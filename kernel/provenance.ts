// What each cell last read (key names and the manager's version ids, never values), kept in
// <notebook>/.strata/provenance.json by the reference kernel so that a reopened notebook still
// knows which cells ran with a value that has since been rotated.
import { mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { SecretManagerPlugin } from "../plugin/types.js";

export function provenancePath(notebookDir: string): string {
  return join(notebookDir, ".strata", "provenance.json");
}

/**
 * Seeds the plugin with what the last session recorded. A missing file is nothing; an
 * unreadable or malformed one is reported through `warn` and ignored (it is only a hint).
 */
export async function loadProvenance(notebookDir: string, plugin: SecretManagerPlugin, warn: (text: string) => void): Promise<void> {
  let text: string;
  try {
    text = await readFile(provenancePath(notebookDir), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") warn(`cannot read .strata/provenance.json (${(error as NodeJS.ErrnoException).code ?? "error"}); which cells ran with older values is not known`);
    return;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    warn(".strata/provenance.json is not valid JSON; ignored (it is rewritten after the next cell)");
    return;
  }
  plugin.restoreProvenance((data as { cells?: unknown } | null)?.cells);
}

/** What was last written per file: a cell that read the same keys at the same versions writes nothing. */
const written = new Map<string, string>();

/** Writes what cells read now (temp file + rename: a reader never sees half of it); removed when empty. */
export async function saveProvenance(notebookDir: string, plugin: SecretManagerPlugin): Promise<void> {
  const file = provenancePath(notebookDir);
  const cells = plugin.provenance();
  const text = Object.keys(cells).length === 0 ? "" : `${JSON.stringify({ version: 1, cells }, null, 2)}\n`;
  if (written.get(file) === text) return;
  if (text === "") await rm(file, { force: true });
  else {
    await mkdir(dirname(file), { recursive: true });
    const temp = `${file}.${process.pid}.tmp`;
    await writeFile(temp, text);
    await rename(temp, file);
  }
  written.set(file, text);
}
