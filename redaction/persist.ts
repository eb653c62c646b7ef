import { randomBytes } from "node:crypto";
import { readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { isSensitiveName } from "./sensitive.js";

/** A TOML value the editor writes: strings, integers, booleans. */
export type TomlScalar = string | number | boolean;

/** Why an edit of notebook.toml failed. Messages never contain a value. */
export class TomlEditError extends Error {
  readonly reason: "invalid-toml" | "write-failed" | "busy";
  constructor(reason: TomlEditError["reason"], message: string, options?: { cause?: unknown }) {
    super(message, { cause: options?.cause ?? null });
    this.name = "TomlEditError";
    this.reason = reason;
  }
}

export interface EnvWriteRules {
  sensitivePatterns?: readonly RegExp[];
  /** Values that must never reach disk (fetched secrets): written blank whatever the name. */
  neverWrite?: ReadonlySet<string>;
}

/** `[env]` entries as written: keys sorted, sensitive names and fetched values blank. */
export function envEntries(env: ReadonlyMap<string, string>, rules: EnvWriteRules = {}): [string, string][] {
  return [...env.keys()].sort().map((key) => {
    const value = env.get(key)!;
    const blank = isSensitiveName(key, rules.sensitivePatterns) || (value !== "" && rules.neverWrite?.has(value) === true);
    return [key, blank ? "" : value];
  });
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw error;
  }
}

/**
 * Applies `edit` to the file's current content and replaces it atomically (temp file in
 * the same directory, then rename; mode kept). Nothing is written when the edit changes
 * nothing. If the file changes while the edit is prepared, the edit is applied again to
 * the new content, so a concurrent save by someone else is not overwritten.
 */
export async function editFile(path: string, edit: (text: string) => string): Promise<{ text: string; written: boolean }> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const before = await readText(path);
    let after: string;
    try {
      after = edit(before);
    } catch (error) {
      throw new TomlEditError("invalid-toml", `${basename(path)} is not valid TOML; fix it before saving from the panel`, { cause: error });
    }
    if (after === before) return { text: before, written: false };
    const mode = await stat(path).then((s) => s.mode & 0o777, () => 0o644);
    const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
    try {
      await writeFile(temp, after, { mode });
      if ((await readText(path)) !== before) {
        await rm(temp, { force: true });
        continue;
      }
      await rename(temp, path);
      return { text: after, written: true };
    } catch (error) {
      await rm(temp, { force: true });
      throw new TomlEditError("write-failed", `Could not write ${basename(path)}: ${(error as NodeJS.ErrnoException).code ?? "error"}`, { cause: error });
    }
  }
  throw new TomlEditError("busy", `${basename(path)} kept changing while saving; try again`);
}

/** Writes the top-level table `name` of a TOML file (only that table changes); null removes it. */
export async function writeTable(path: string, name: string, entries: [string, TomlScalar][] | null) {
  const { replaceTable } = await import("./toml-edit.js");
  return editFile(path, (text) => replaceTable(text, name, entries));
}

/** Writes `[env]` of notebook.toml (only that table changes). */
export function writeEnvTable(path: string, env: ReadonlyMap<string, string>, rules: EnvWriteRules = {}) {
  return writeTable(path, "env", envEntries(env, rules));
}
