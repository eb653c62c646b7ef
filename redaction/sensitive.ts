/**
 * The sensitive-name rule of Strata: a name is sensitive when it contains, in any case,
 * one of these substrings. Known false positives: MONKEY, KEYBOARD_LAYOUT, TOKENIZER_PATH.
 * Known misses: DB_PASS, PASSWD, PRIVATE_PEM, DSN — add patterns with `sensitivePatterns`.
 */
/** What the Runtime panel gets instead of a hidden value, and sends back to keep it. */
export const MASKED = "__strata_masked__";

export const SENSITIVE_SUBSTRINGS = Object.freeze(["KEY", "SECRET", "TOKEN", "PASSWORD", "CREDENTIAL"] as const);

/** Whether values under this name are hidden in the UI and blanked on disk. */
export function isSensitiveName(name: string, extra: readonly RegExp[] = []): boolean {
  const upper = name.toUpperCase();
  for (const s of SENSITIVE_SUBSTRINGS) if (upper.includes(s)) return true;
  for (const re of extra) {
    re.lastIndex = 0;
    if (re.test(name)) return true;
  }
  return false;
}

/** Names a manager value may not set unless allowed: they make the kernel or its children run code. */
export function unsafeNameReason(name: string): string | null {
  const upper = name.toUpperCase();
  if (["NODE_OPTIONS", "LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "BASH_ENV"].includes(upper) || upper.startsWith("DYLD_")) {
    return `${name} can make the kernel or its child processes load code; allow it with allowUnsafeNames`;
  }
  return null;
}

export const VALID_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Why a name/value pair cannot be put in an environment, or null. Never quotes the value. */
export function invalidEnvReason(name: string, value: string): string | null {
  if (!VALID_NAME.test(name)) return "not a valid variable name (letters, digits and _, not starting with a digit)";
  if (value.includes("\0")) return "the value contains a NUL character";
  return null;
}
