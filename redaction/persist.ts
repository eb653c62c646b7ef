import { randomBytes } from "node:crypto";
import { readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { SECRET_MANAGER_KEYS } from "../plugin/config.js";
import { ErrorCode, StrataSecretsError } from "../plugin/errors.js";
import type { SecretManagerConfig } from "../plugin/types.js";
import { isSensitiveName } from "./sensitive.js";

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

/** `[secret_manager]` entries as written: the five known keys, trimmed, empty ones left out. */
export function secretManagerEntries(config: SecretManagerConfig | null): [string, string][] | null {
  if (!config) return null;
  const out: [string, string][] = [];
  for (const key of SECRET_MANAGER_KEYS) {
    const value = typeof config[key] === "string" ? config[key].trim() : "";
    if (value) out.push([key, value]);
  }
  return out.length > 0 ? out : null;
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
 * the new content, so a concurrent save by someone else is never overwritten.
 */
export async function editFile(path: string, edit: (text: string) => string): Promise<{ text: string; written: boolean }> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const before = await readText(path);
    let after: string;
    try {
      after = edit(before);
    } catch (error) {
      throw new StrataSecretsError(ErrorCode.INVALID_CONFIG, `${basename(path)} is not valid TOML; fix it before saving from the panel`, { cause: error });
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
      throw new StrataSecretsError(ErrorCode.WRITE_FAILED, `Could not write ${basename(path)}: ${(error as NodeJS.ErrnoException).code ?? "error"}`, { cause: error });
    }
  }
  throw new StrataSecretsError(ErrorCode.WRITE_FAILED, `${basename(path)} kept changing while saving; try again`);
}

/** Writes `[env]` of notebook.toml (only that table changes). */
export async function writeEnvTable(path: string, env: ReadonlyMap<string, string>, rules: EnvWriteRules = {}) {
  const entries = envEntries(env, rules);
  const { replaceTable } = await import("./toml-edit.js");
  return editFile(path, (text) => replaceTable(text, "env", entries));
}

/** Writes `[secret_manager]` of notebook.toml; null or an all-empty config removes the table. */
export async function writeSecretManagerTable(path: string, config: SecretManagerConfig | null) {
  const entries = secretManagerEntries(config);
  const { replaceTable } = await import("./toml-edit.js");
  return editFile(path, (text) => replaceTable(text, "secret_manager", entries));
}
