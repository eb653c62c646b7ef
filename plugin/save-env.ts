import { invalidEnvReason, MASKED } from "../redaction/sensitive.js";
import { ErrorCode, StrataSecretsError } from "./errors.js";
import type { Session } from "./session.js";

/**
 * What a Runtime-panel save (`saveEnv`) means for the session values and for `[env]` on
 * disk (DESIGN §6): the marker keeps the current value, a key left out is removed, a new
 * value replaces and becomes manual. A fetched row saved unchanged stays fetched and is not
 * written (a key already declared on disk stays declared).
 *
 * Secrets never reach disk: a value under a sensitive name, or one that holds a current
 * secret (a copy, a DSN built around a fetched password), is kept in memory for the session
 * and declared blank in the file — also when it was already on disk (it moves to memory,
 * so the next cell still sees it). Everything else is written as typed.
 */
export function planEnvSave(input: Record<string, unknown>, session: Session): { manual: Map<string, string>; disk: Map<string, string> } {
  if (!input || typeof input !== "object" || Array.isArray(input)) throw new StrataSecretsError(ErrorCode.INVALID_ARGUMENT, "saveEnv: env must be an object of strings");
  const { model } = session;
  const secret = (key: string, value: string) => model.isSensitive(key) || model.containsSecret(value);
  const manual = new Map<string, string>();
  const disk = new Map<string, string>();
  for (const [key, value] of Object.entries(input)) {
    if (typeof value !== "string") throw new StrataSecretsError(ErrorCode.INVALID_ARGUMENT, `saveEnv: the value of '${key}' must be a string`);
    const bad = invalidEnvReason(key, value);
    if (bad) throw new StrataSecretsError(ErrorCode.INVALID_ARGUMENT, `saveEnv: '${key}': ${bad}`);
    const entry = model.entries.get(key);
    const unchangedFetched = entry !== undefined && entry.source !== "manual" && entry.refused === undefined && entry.value === value;
    if (value === MASKED || unchangedFetched) {
      if (!entry) continue;
      const onDisk = session.disk.get(key);
      const typed = session.manual.get(key);
      if (typed !== undefined) manual.set(key, typed);
      else if (onDisk && secret(key, onDisk)) manual.set(key, onDisk);
      if (onDisk !== undefined) disk.set(key, onDisk && secret(key, onDisk) ? "" : onDisk);
      continue;
    }
    if (secret(key, value)) {
      if (value !== "") manual.set(key, value);
      disk.set(key, "");
    } else {
      disk.set(key, value);
    }
  }
  return { manual, disk };
}
