import { createStreamMasker, SecretMasker, type OutputMasker } from "../redaction/masker.js";
import type { EnvModel } from "./env-model.js";

/**
 * Internal (not exported by the package): the values output must never show, for a process
 * that masks the kernel's output from outside (the CLI's supervisor). A symbol key keeps it
 * off the public interface; it is never serialized by the plugin itself.
 */
export const MASK_SOURCE = Symbol("strata-secrets.maskSource");

/** What `plugin[MASK_SOURCE]()` answers: a version that changes with the values. */
export interface MaskSource {
  version: number;
  values: readonly string[];
}

/**
 * The output masker of the session's current secret set plus the kernel's own credential
 * values. It is rebuilt off the print path: when the set changes, `prepare()` schedules the
 * build for the next turn of the event loop; output printed meanwhile goes through a bridge
 * (the previous masker plus the new values searched one by one), never less than before.
 */
export class Masking {
  readonly #model: EnvModel;
  readonly #credentials: readonly string[];
  #masker: SecretMasker;
  #version: number;
  #built: ReadonlySet<string>;
  #bridge: { version: number; masker: SecretMasker } | null = null;
  #scheduled: NodeJS.Immediate | null = null;

  constructor(model: EnvModel, credentials: readonly string[]) {
    this.#model = model;
    this.#credentials = credentials;
    this.#version = model.secretsVersion;
    this.#built = new Set(this.values());
    this.#masker = new SecretMasker(this.#built);
  }

  /** The secret set changed: build its masker soon, off the print path. */
  prepare(): void {
    if (this.#scheduled || this.#version === this.#model.secretsVersion) return;
    this.#scheduled = setImmediate(() => {
      this.#scheduled = null;
      const version = this.#model.secretsVersion;
      const values = this.values();
      this.#masker = new SecretMasker(values, { previous: this.#masker });
      this.#built = new Set(values);
      this.#version = version;
      this.#bridge = null;
    });
  }

  current = (): SecretMasker => {
    const version = this.#model.secretsVersion;
    if (version === this.#version) return this.#masker;
    this.prepare();
    if (this.#bridge?.version !== version) {
      this.#bridge = { version, masker: SecretMasker.bridge(this.#masker, this.values().filter((v) => !this.#built.has(v))) };
    }
    return this.#bridge.masker;
  };

  mask = (text: string): string => this.current().mask(text).text;

  stream(): OutputMasker {
    return createStreamMasker(this.current);
  }

  /** The values masked now: secrets (retired ones included) and credentials. */
  values(): string[] {
    return [...new Set([...this.#model.secrets, ...this.#credentials])];
  }

  source(): MaskSource {
    return { version: this.#model.secretsVersion, values: this.values() };
  }

  /** Cancels a scheduled build (close). */
  stop(): void {
    if (this.#scheduled) clearImmediate(this.#scheduled);
    this.#scheduled = null;
  }
}
