import { invalidEnvReason, isSensitiveName, MASKED, unsafeNameReason } from "../redaction/sensitive.js";
import { SecretSet } from "./secret-set.js";
import type { EnvRow } from "./types.js";

export interface EnvEntry {
  /** The value applied to the env, or undefined when nothing is applied (placeholder, refused). */
  value: string | undefined;
  source: string;
  sensitive: boolean;
  hidden: boolean;
  stale: boolean;
  refused?: string;
  /**
   * Provenance of the applied value, for telling which cells ran with an older one: the
   * manager's own version id where it has one ("infisical@7"), else a session-local counter
   * that changes whenever the value changes ("s12"). Never a value or a hash of one.
   */
  version?: string;
}

/** The manager's side of the env: the last good fetch of the config in force. */
export interface FetchedValues {
  provider: string;
  secrets: ReadonlyMap<string, string>;
  /** Keys the provider could not turn into variables, with the reason. */
  refused: ReadonlyMap<string, string>;
  /** The last fetch failed: these values are the last good ones. */
  stale: boolean;
  /** The manager's version id per key, where it has one. */
  versions?: ReadonlyMap<string, string>;
}

/** Everything the env is computed from (DESIGN §6 layers). */
export interface EnvInputs {
  /** Values typed this session that cannot live on disk (sensitive names, copies of secrets). */
  manual: ReadonlyMap<string, string>;
  /** [env] of notebook.toml. */
  disk: ReadonlyMap<string, string>;
  fetched: FetchedValues | null;
}

export interface EnvRules {
  sensitivePatterns: readonly RegExp[];
  allowUnsafeNames: readonly string[];
}

/** A change to apply to the env: a key and its new value, or undefined to restore the kernel's. */
export type EnvChange = readonly [key: string, value: string | undefined];

const NO_CHANGES: readonly EnvChange[] = Object.freeze([]);

/**
 * The session env: manual (session) > non-empty [env] > fetched > the kernel's own.
 * `recompute` derives every entry from the inputs; the keys whose applied value changed
 * wait in a change list until `takeChanges()`; `version` counts those changes.
 */
export class EnvModel {
  entries: ReadonlyMap<string, EnvEntry> = new Map();
  /** Bumped when an applied value changes. */
  version = 0;
  #desired = new Map<string, string>();
  #pending = new Set<string>();
  #counter = 0;
  readonly #secrets = new SecretSet();
  readonly #patterns: readonly RegExp[];
  readonly #allowUnsafe: ReadonlySet<string>;

  constructor(rules: EnvRules) {
    this.#patterns = rules.sensitivePatterns;
    this.#allowUnsafe = new Set(rules.allowUnsafeNames.map((n) => n.toUpperCase()));
  }

  isSensitive(key: string): boolean {
    return isSensitiveName(key, this.#patterns);
  }

  /** Whether a value holds a current secret (a copy, or a DSN built around one). */
  containsSecret(value: string): boolean {
    return this.#secrets.containsSecret(value);
  }

  /** The values output must never show (retired ones included); replaced when they change. */
  get secrets(): ReadonlySet<string> {
    return this.#secrets.values;
  }

  /** Bumped when the set of values to mask changes. */
  get secretsVersion(): number {
    return this.#secrets.version;
  }

  /** Derives the entries from `inputs`; returns true when an applied value changed. */
  recompute(inputs: EnvInputs): boolean {
    this.#secrets.update(inputs, (k) => this.isSensitive(k));
    const keys = new Set<string>([...inputs.manual.keys(), ...inputs.disk.keys(), ...(inputs.fetched?.secrets.keys() ?? []), ...(inputs.fetched?.refused.keys() ?? [])]);
    const entries = new Map<string, EnvEntry>();
    const desired = new Map<string, string>();
    const before = this.entries;
    for (const key of [...keys].sort()) {
      const entry = this.#resolve(key, inputs);
      if (entry.value !== undefined) {
        desired.set(key, entry.value);
        const managed = entry.source === "manual" ? undefined : inputs.fetched?.versions?.get(key);
        const prev = before.get(key);
        entry.version = managed !== undefined ? `${entry.source}@${managed}` : prev?.version !== undefined && prev.value === entry.value && prev.source === entry.source ? prev.version : `s${++this.#counter}`;
      }
      entries.set(key, entry);
    }
    let changed = false;
    const mark = (key: string) => {
      this.#pending.add(key);
      changed = true;
    };
    for (const [key, value] of desired) if (this.#desired.get(key) !== value) mark(key);
    for (const key of this.#desired.keys()) if (!desired.has(key)) mark(key);
    this.entries = entries;
    this.#desired = desired;
    if (changed) this.version++;
    return changed;
  }

  /** The changes since the last call; the list is then empty. Nothing pending costs nothing. */
  takeChanges(): readonly EnvChange[] {
    if (this.#pending.size === 0) return NO_CHANGES;
    const out: EnvChange[] = [...this.#pending].map((key) => [key, this.#desired.get(key)] as const);
    this.#pending.clear();
    return out;
  }

  /** Every applied value, for a patcher that starts from scratch. */
  desired(): ReadonlyMap<string, string> {
    return this.#desired;
  }

  rows(): EnvRow[] {
    return [...this.entries].map(([key, e]) => {
      const row: EnvRow = { key, source: e.source, sensitive: e.sensitive, hidden: e.hidden, stale: e.stale };
      if (e.refused !== undefined) row.refused = e.refused;
      return row;
    });
  }

  /** key -> value for the panel, hidden values replaced by MASKED; refused rows left out. */
  maskedEnv(): Record<string, string> {
    const out: [string, string][] = [];
    for (const [key, e] of this.entries) {
      if (e.refused !== undefined) continue;
      out.push([key, e.value === undefined || e.value === "" ? "" : e.hidden ? MASKED : e.value]);
    }
    return Object.fromEntries(out);
  }

  #resolve(key: string, inputs: EnvInputs): EnvEntry {
    const sensitive = this.isSensitive(key);
    const manual = (value: string | undefined, refused?: string): EnvEntry => {
      const hidden = sensitive || refused !== undefined || (value !== undefined && this.containsSecret(value));
      return { value, source: "manual", sensitive, hidden, stale: false, ...(refused !== undefined ? { refused } : {}) };
    };
    const typed = inputs.manual.get(key);
    if (typed !== undefined && typed !== "") {
      const bad = this.#refusal(key, typed);
      return bad ? manual(undefined, bad) : manual(typed);
    }
    const onDisk = inputs.disk.get(key);
    if (onDisk !== undefined && onDisk !== "") {
      // A pulled notebook must not make the kernel run code on open (as direnv asks for `allow`).
      const bad = this.#refusal(key, onDisk);
      return bad ? manual(undefined, bad) : manual(onDisk);
    }
    const f = inputs.fetched;
    const fetched = f?.secrets.get(key);
    const refusedBy = f?.refused.get(key) ?? (fetched === undefined ? undefined : this.#refusal(key, fetched));
    if (f && (fetched !== undefined || refusedBy !== undefined)) {
      const entry: EnvEntry = { value: refusedBy === undefined ? fetched : undefined, source: f.provider, sensitive, hidden: true, stale: f.stale };
      return refusedBy === undefined ? entry : { ...entry, refused: refusedBy };
    }
    if (onDisk !== undefined) {
      const bad = this.#refusal(key, onDisk);
      // A blank sensitive value is a placeholder: it never hides what the kernel had.
      return bad ? manual(undefined, bad) : manual(sensitive ? undefined : "");
    }
    return manual(undefined);
  }

  /** Why a value may not be applied: an invalid name/value, or an unsafe name not allowed. */
  refusal(key: string, value: string): string | undefined {
    return this.#refusal(key, value);
  }

  #refusal(key: string, value: string): string | undefined {
    return invalidEnvReason(key, value) ?? (this.#allowUnsafe.has(key.toUpperCase()) ? undefined : (unsafeNameReason(key) ?? undefined));
  }
}
