import { invalidEnvReason, isSensitiveName, unsafeNameReason } from "../redaction/sensitive.js";
import type { EnvRow } from "./types.js";

/** The value the Runtime panel shows for a fetched or sensitive value. */
export const MASKED = "__strata_masked__";

export interface EnvEntry {
  /** The value applied to the env, or undefined when nothing is applied (placeholder, refused). */
  value: string | undefined;
  source: string;
  sensitive: boolean;
  refused?: string;
}

export interface EnvModelOptions {
  sensitivePatterns?: readonly RegExp[];
  allowUnsafeNames?: readonly string[];
}

/**
 * The session env of DESIGN §6: manual (session) > non-empty [env] > fetched > the
 * kernel's own. Recomputed when an input changes; `dirty` collects the keys whose applied
 * value changed since the patcher last ran, `version` counts those changes.
 */
export class EnvModel {
  /** Values typed this session that cannot live on disk (sensitive names). */
  manual = new Map<string, string>();
  /** [env] of notebook.toml. */
  disk = new Map<string, string>();
  fetched: Map<string, string> | null = null;
  provider: string | null = null;
  stale = false;

  entries = new Map<string, EnvEntry>();
  /** key -> value applied to the env. */
  desired = new Map<string, string>();
  dirty = new Set<string>();
  version = 0;
  /** Bumped when the set of values to mask changes (the masker is rebuilt then only). */
  secretsVersion = 0;

  #secrets = new Set<string>();
  readonly #patterns: readonly RegExp[];
  readonly #allowUnsafe: Set<string>;

  constructor(options: EnvModelOptions = {}) {
    this.#patterns = options.sensitivePatterns ?? [];
    this.#allowUnsafe = new Set((options.allowUnsafeNames ?? []).map((n) => n.toUpperCase()));
  }

  isSensitive(key: string): boolean {
    return isSensitiveName(key, this.#patterns);
  }

  /** A value that is a known secret (fetched, or typed under a sensitive name). */
  isSecretValue(value: string): boolean {
    return value !== "" && this.#secrets.has(value);
  }

  #resolve(key: string): EnvEntry {
    const sensitive = this.isSensitive(key);
    const typed = this.manual.get(key);
    if (typed !== undefined && typed !== "") return { value: typed, source: "manual", sensitive };
    const onDisk = this.disk.get(key);
    if (onDisk !== undefined && onDisk !== "") {
      const bad = invalidEnvReason(key, onDisk);
      return bad ? { value: undefined, source: "manual", sensitive, refused: bad } : { value: onDisk, source: "manual", sensitive };
    }
    const fetched = this.fetched?.get(key);
    let refused: EnvEntry | null = null;
    if (fetched !== undefined) {
      const source = this.provider ?? "manager";
      const bad = invalidEnvReason(key, fetched) ?? (this.#allowUnsafe.has(key.toUpperCase()) ? null : unsafeNameReason(key));
      if (!bad) return { value: fetched, source, sensitive };
      refused = { value: undefined, source, sensitive, refused: bad };
    }
    if (onDisk !== undefined && !refused) {
      // A blank sensitive value is a placeholder: it never hides what the kernel had.
      const bad = invalidEnvReason(key, onDisk);
      if (bad) return { value: undefined, source: "manual", sensitive, refused: bad };
      return { value: sensitive ? undefined : "", source: "manual", sensitive };
    }
    return refused ?? { value: undefined, source: "manual", sensitive };
  }

  /** Recomputes every entry; returns true when an applied value changed. */
  recompute(): boolean {
    const keys = new Set<string>([...this.manual.keys(), ...this.disk.keys(), ...(this.fetched?.keys() ?? [])]);
    const entries = new Map<string, EnvEntry>();
    const desired = new Map<string, string>();
    for (const key of [...keys].sort()) {
      const entry = this.#resolve(key);
      entries.set(key, entry);
      if (entry.value !== undefined) desired.set(key, entry.value);
    }
    let changed = false;
    for (const [key, value] of desired) {
      if (this.desired.get(key) !== value) {
        this.dirty.add(key);
        changed = true;
      }
    }
    for (const key of this.desired.keys()) {
      if (!desired.has(key)) {
        this.dirty.add(key);
        changed = true;
      }
    }
    this.entries = entries;
    this.desired = desired;
    if (changed) this.version++;
    const secrets = this.#collectSecrets();
    if (secrets.length !== this.#secrets.size || secrets.some((v) => !this.#secrets.has(v))) {
      this.#secrets = new Set(secrets);
      this.secretsVersion++;
    }
    return changed;
  }

  rows(): EnvRow[] {
    const rows: EnvRow[] = [];
    for (const [key, e] of this.entries) {
      const row: EnvRow = { key, source: e.source, sensitive: e.sensitive, stale: this.stale && e.source !== "manual" };
      if (e.refused !== undefined) row.refused = e.refused;
      rows.push(row);
    }
    return rows;
  }

  /** key -> value for the panel, fetched and sensitive values replaced by MASKED. */
  maskedEnv(): Record<string, string> {
    const out: [string, string][] = [];
    for (const [key, e] of this.entries) {
      if (e.refused !== undefined) continue;
      if (e.value === undefined || e.value === "") out.push([key, ""]);
      // A manual value equal to a secret (a copy of a fetched value) is hidden too.
      else out.push([key, e.sensitive || e.source !== "manual" || this.isSecretValue(e.value) ? MASKED : e.value]);
    }
    return Object.fromEntries(out);
  }

  /** The current secret values (what the masker masks); replaced only when they change. */
  get secrets(): ReadonlySet<string> {
    return this.#secrets;
  }

  /** Every value that must never be shown: fetched values and sensitive manual values. */
  #collectSecrets(): string[] {
    const out = new Set<string>();
    for (const v of this.fetched?.values() ?? []) out.add(v);
    for (const [k, v] of this.manual) if (this.isSensitive(k)) out.add(v);
    for (const [k, v] of this.disk) if (this.isSensitive(k)) out.add(v);
    out.delete("");
    return [...out];
  }
}
