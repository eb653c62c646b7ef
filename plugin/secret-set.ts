import { MIN_SECRET_LENGTH } from "../redaction/encodings.js";
import { looksLikeCredential } from "../redaction/sensitive.js";
import type { EnvInputs } from "./env-model.js";

/** Retired values kept masked per key (a rotation, a disconnect, a config switch). */
const RETIRED_PER_KEY = 5;
/** Keys whose retired values are kept (the oldest are forgotten first). */
const RETIRED_KEYS = 2_000;

/**
 * The values output must never show, and the rule for which values are secrets:
 * - a fetched value is a secret when its name is sensitive or the value looks like a
 *   credential (`looksLikeCredential`); plain settings (1, true, 5432, us-east-1) are not;
 * - a value under a sensitive name in `[env]` or typed this session is a secret;
 * - a value that was a secret stays masked after it is rotated away, for the last few
 *   values of each key, for the rest of the session.
 */
export class SecretSet {
  /** key -> the secret value it holds now (for retiring it when it changes). */
  #current = new Map<string, string>();
  #retired = new Map<string, string[]>();
  #values: ReadonlySet<string> = new Set();
  #active: readonly string[] = [];
  version = 0;

  /** What is masked: current secrets and retired ones. Replaced (not mutated) on change. */
  get values(): ReadonlySet<string> {
    return this.#values;
  }

  /** Whether `value` holds a current secret (a copy, or one inside a DSN or a longer value). */
  containsSecret(value: string): boolean {
    if (value.length < MIN_SECRET_LENGTH) return false;
    for (const s of this.#active) if (value.includes(s)) return true;
    return false;
  }

  /** Recomputes from the env's inputs; bumps `version` when the masked values change. */
  update(inputs: EnvInputs, isSensitive: (key: string) => boolean): void {
    const next = new Map<string, string>();
    const add = (key: string, value: string) => {
      if (value.length >= MIN_SECRET_LENGTH) next.set(key, value);
    };
    for (const [k, v] of inputs.fetched?.secrets ?? []) if (isSensitive(k) || looksLikeCredential(v)) add(`fetched:${k}`, v);
    for (const [k, v] of inputs.manual) add(`manual:${k}`, v);
    for (const [k, v] of inputs.disk) if (isSensitive(k)) add(`disk:${k}`, v);
    for (const [key, value] of this.#current) if (next.get(key) !== value) this.#retire(key, value);
    this.#current = next;
    const values = new Set([...next.values(), ...[...this.#retired.values()].flat()]);
    this.#active = [...new Set(next.values())];
    if (values.size !== this.#values.size || [...values].some((v) => !this.#values.has(v))) {
      this.#values = values;
      this.version++;
    }
  }

  #retire(key: string, value: string): void {
    const list = (this.#retired.get(key) ?? []).filter((v) => v !== value);
    list.unshift(value);
    this.#retired.delete(key); // re-inserted last: Map order is the forgetting order
    this.#retired.set(key, list.slice(0, RETIRED_PER_KEY));
    if (this.#retired.size > RETIRED_KEYS) this.#retired.delete(this.#retired.keys().next().value!);
  }
}
