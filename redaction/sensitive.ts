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

/**
 * Variables that make programs run code (or load it, or trust it), refused from the manager
 * and from notebook.toml unless allowed with `allowUnsafeNames`. The anchor is sudo's list of
 * unsafe variables (`initial_badenv_table` in plugins/sudoers/env.c); added: the ones that
 * run a command in the runtimes a notebook starts (Node, Python, Git, pagers, editors,
 * browsers, AWS and Kubernetes configs, npm/pip settings).
 */
export const UNSAFE_NAMES: readonly string[] = Object.freeze([
  // sudo's list
  "IFS", "CDPATH", "LOCALDOMAIN", "RES_OPTIONS", "HOSTALIASES", "NLSPATH", "PATH_LOCALE", "SHLIB_PATH", "LIBPATH",
  "TERMINFO", "TERMINFO_DIRS", "TERMPATH", "TERMCAP", "ENV", "BASH_ENV", "PS4", "GLOBIGNORE", "SHELLOPTS", "BASHOPTS",
  "JAVA_TOOL_OPTIONS", "PERLIO_DEBUG", "PERLLIB", "PERL5LIB", "PERL5OPT", "PERL5DB", "FPATH", "NULLCMD", "READNULLCMD",
  "ZDOTDIR", "TMPPREFIX", "PYTHONHOME", "PYTHONPATH", "PYTHONINSPECT", "PYTHONUSERBASE", "RUBYLIB", "RUBYOPT", "KRB5_KTNAME",
  // shells, pagers, editors, browsers
  "PATH", "PS0", "PROMPT_COMMAND", "BROWSER", "PAGER", "MANPAGER", "GIT_PAGER", "EDITOR", "VISUAL", "GIT_EDITOR", "LESSOPEN", "LESSCLOSE",
  // runtimes a cell may start
  "NODE_OPTIONS", "NODE_PATH", "PYTHONSTARTUP", "PYTHONWARNINGS", "PYTHONBREAKPOINT", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "CLASSPATH",
  "LUA_INIT", "PHPRC", "PHP_INI_SCAN_DIR", "R_PROFILE", "R_PROFILE_USER", "GCONV_PATH", "LOCPATH", "OPENSSL_CONF", "OPENSSL_ENGINES", "SSLKEYLOGFILE",
  // git, ssh
  "GIT_SSH", "GIT_SSH_COMMAND", "GIT_EXEC_PATH", "GIT_ASKPASS", "SSH_ASKPASS", "GIT_TEMPLATE_DIR", "GIT_CONFIG_PARAMETERS", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "GIT_CONFIG_COUNT",
  // config files that name commands to run (AWS credential_process, kubeconfig exec plugins), package indexes
  "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "KUBECONFIG", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_CONFIG_FILE",
]);

/** Prefixes of unsafe names (case-insensitive). */
export const UNSAFE_PREFIXES: readonly string[] = Object.freeze(["LD_", "_RLD", "LDR_", "DYLD_", "KRB5_CONFIG", "BASH_FUNC_", "GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_", "NPM_CONFIG_", "LUA_INIT_"]);

const UNSAFE = new Set(UNSAFE_NAMES);

/** Why a variable may not be set without `allowUnsafeNames`, or null. Never quotes a value. */
export function unsafeNameReason(name: string): string | null {
  const upper = name.toUpperCase();
  if (UNSAFE.has(upper) || UNSAFE_PREFIXES.some((p) => upper.startsWith(p))) {
    return `${name} can make the kernel or its child processes run code; allow it with allowUnsafeNames`;
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

/**
 * Whether a value looks like a credential whatever its name: 16+ characters without spaces
 * that mix at least two of lowercase, uppercase and digits with about 3 bits of entropy per
 * character (tokens, keys, hashes, UUIDs), a URL that carries a password, or a PEM block.
 * Plain settings do not: 1, true, 5432, info, us-east-1, hostnames, plain URLs, MIME types.
 */
export function looksLikeCredential(value: string): boolean {
  const v = value.trim();
  if (v.includes("-----BEGIN ")) return true;
  if (v.length < 16 || /\s/.test(v)) return false;
  const url = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(v);
  if (url) return /:[^@]+@/.test(url[1]!) || /[?&][^=]*(key|token|secret|sig|signature|password|auth)[^=]*=[^&]{8,}/i.test(v);
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/].filter((re) => re.test(v)).length;
  return classes >= 2 && entropyPerChar(v) >= 3;
}

/** Shannon entropy of the characters of `s`, in bits per character. */
function entropyPerChar(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}
