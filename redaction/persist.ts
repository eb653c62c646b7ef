import { randomBytes } from "node:crypto";
import { chmodSync, closeSync, existsSync, fstatSync, openSync, readFileSync, readSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { readdir, readFile, realpath, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { isSensitiveName } from "./sensitive.js";

/** A TOML value the editor writes: strings, integers, booleans. */
export type TomlScalar = string | number | boolean;

/** Why an edit of notebook.toml failed. Messages never contain a value. */
export class TomlEditError extends Error {
  readonly reason: "invalid-toml" | "invalid-utf8" | "write-failed" | "busy";
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

/** `[env]` entries as written: sensitive names and secret values blank (order: the caller's, sorted). */
export function envEntries(env: ReadonlyMap<string, string>, rules: EnvWriteRules = {}): [string, string][] {
  return [...env.keys()].sort().map((key) => {
    const value = env.get(key)!;
    const blank = isSensitiveName(key, rules.sensitivePatterns) || (value !== "" && rules.neverWrite?.has(value) === true);
    return [key, blank ? "" : value];
  });
}

/** Decodes UTF-8 strictly: a file that is not UTF-8 is refused, never silently altered. */
export function decodeUtf8(bytes: Buffer, name: string): string {
  const text = bytes.toString("utf8");
  if (!text.includes("\uFFFD") || Buffer.from(text, "utf8").equals(bytes)) return text;
  const back = Buffer.from(text, "utf8");
  let at = 0;
  while (at < bytes.length && bytes[at] === back[at]) at++;
  throw new TomlEditError("invalid-utf8", `${name} is not valid UTF-8 (byte ${at}): save it as UTF-8; nothing was changed`);
}

/** The file's text (strict UTF-8), or null when it does not exist. */
export async function readText(path: string): Promise<string | null> {
  try {
    return decodeUtf8(await readFile(path), basename(path));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

const TEMP = /^\.(.+)\.[0-9a-f]{12}\.tmp$/;

/** Removes temp files a killed save left beside `path` (older than `olderThanMs`). */
export async function removeStaleTemps(path: string, olderThanMs = 10_000): Promise<void> {
  const dir = dirname(path);
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    if (TEMP.exec(name)?.[1] !== basename(path)) continue;
    const info = await stat(join(dir, name)).catch(() => null);
    if (info && Date.now() - info.mtimeMs > olderThanMs) await rm(join(dir, name), { force: true });
  }
}

export interface EditHooks {
  /** Called with the new text right before it replaces the file (a watcher can expect it). */
  beforeRename?: (text: string) => void;
}

/** How long a save keeps retrying while the file changes under it before giving up. */
const BUSY_MS = 5_000;

/** How long after a rename a write into the replaced file is still caught and merged. */
const LATE_WRITE_MS = 25;

/**
 * Applies `edit` to the file's current content and replaces it atomically: a temp file in
 * the same directory (with the file's exact mode), then rename. Nothing is written when the
 * edit changes nothing. A symlink stays a symlink: its target gets the change.
 *
 * Against concurrent writers: the last check of the content and the rename happen in one
 * turn of the event loop (no other code of this process runs between them); if the content
 * changed, the edit is redone on the new content. A write that still reaches the replaced
 * file (opened before the rename, written after it, within ~25 ms) is read back through a
 * descriptor kept on it and the edit is redone on it. A writer in another process that
 * replaces the file itself in the microseconds between that check and the rename can lose
 * its change.
 */
export async function editFile(path: string, edit: (text: string) => string, hooks: EditHooks = {}): Promise<{ text: string; written: boolean }> {
  const target = await realpath(path).catch(() => path);
  const name = basename(path);
  /** Text appended to a file we replaced (after our check): carried into the next version. */
  let carry = "";
  /** The replaced file was rewritten (not appended to) while ours was untouched: edit that. */
  let base: string | null = null;
  // Retried while the file keeps changing under us, for up to BUSY_MS.
  for (const until = Date.now() + BUSY_MS; Date.now() < until; ) {
    const step = replaceOnce(target, name, edit, base, carry, hooks);
    if (step.kind === "unchanged") return { text: step.text, written: false };
    if (step.kind === "raced") {
      await new Promise((r) => setTimeout(r, 1)); // changed while we edited: redo it on the new content
      continue;
    }
    const late = step.old >= 0 ? await lateWrite(step.old, step.size).finally(() => closeSync(step.old)) : null;
    if (late === null) return { text: step.text, written: true };
    // Someone wrote into the file we just replaced (it was open before our rename).
    const lateText = decodeUtf8(late, name);
    base = null;
    carry = "";
    if (lateText.startsWith(step.before)) carry = lateText.slice(step.before.length);
    else if ((await readText(target)) === step.text) base = lateText;
  }
  throw new TomlEditError("busy", `${name} kept changing while saving; try again`);
}

type Step = { kind: "unchanged"; text: string } | { kind: "raced" } | { kind: "written"; text: string; before: string; old: number; size: number };

/**
 * One synchronous read-edit-write-check-rename: no other code of this process runs in
 * between, so only a write already under way in another thread or process can race it.
 * Returns a descriptor on the replaced file (`old`), for catching late writes into it.
 */
function replaceOnce(target: string, name: string, edit: (text: string) => string, base: string | null, carry: string, hooks: EditHooks): Step {
  let old = -1;
  try {
    old = openSync(target, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw writeFailed(name, error);
  }
  let keep = false;
  let temp: string | null = null;
  try {
    const before = old >= 0 ? decodeUtf8(readFileSync(old), name) : "";
    let after: string;
    try {
      after = edit((base ?? before) + carry);
    } catch (error) {
      throw new TomlEditError("invalid-toml", `${name} is not valid TOML; fix it before saving from the panel`, { cause: error });
    }
    if (after === before) return { kind: "unchanged", text: before };
    const mode = old >= 0 ? fstatSync(old).mode & 0o7777 : 0o644;
    temp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString("hex")}.tmp`);
    writeFileSync(temp, after, { mode });
    chmodSync(temp, mode); // exactly the file's mode, whatever the umask
    if ((old >= 0 ? readFileSync(target, "utf8") : existsSync(target) ? null : "") !== before) return { kind: "raced" };
    hooks.beforeRename?.(after);
    renameSync(temp, target);
    temp = null;
    keep = old >= 0;
    return { kind: "written", text: after, before, old, size: Buffer.byteLength(before) };
  } catch (error) {
    if (error instanceof TomlEditError) throw error;
    throw writeFailed(name, error);
  } finally {
    if (temp) rmSync(temp, { force: true });
    if (old >= 0 && !keep) closeSync(old);
  }
}

function writeFailed(name: string, error: unknown): TomlEditError {
  return new TomlEditError("write-failed", `Could not write ${name}: ${(error as NodeJS.ErrnoException).code ?? "error"}`, { cause: error });
}

/** The replaced file's content if it grew or changed size after the rename, else null. */
async function lateWrite(fd: number, size: number): Promise<Buffer | null> {
  const changed = () => fstatSync(fd).size !== size;
  if (!changed()) {
    await new Promise((r) => setImmediate(r));
    if (!changed()) await new Promise((r) => setTimeout(r, LATE_WRITE_MS));
    if (!changed()) return null;
  }
  const length = fstatSync(fd).size;
  const buffer = Buffer.alloc(length);
  readSync(fd, buffer, 0, length, 0);
  return buffer;
}

/** Writes the top-level table `name` of a TOML file (only that table changes); null removes it. */
export async function writeTable(path: string, name: string, entries: [string, TomlScalar][] | null, hooks: EditHooks = {}) {
  const { replaceTable } = await import("./toml-edit.js");
  return editFile(path, (text) => replaceTable(text, name, entries), hooks);
}

/** Writes `[env]` of notebook.toml (only that table changes). */
export function writeEnvTable(path: string, env: ReadonlyMap<string, string>, rules: EnvWriteRules = {}, hooks: EditHooks = {}) {
  return writeTable(path, "env", envEntries(env, rules), hooks);
}
