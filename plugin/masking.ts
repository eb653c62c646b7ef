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
 * values, rebuilt only when the secret set changes.
 */
export class Masking {
  readonly #model: EnvModel;
  readonly #credentials: readonly string[];
  #masker = new SecretMasker([]);
  #version = -1;

  constructor(model: EnvModel, credentials: readonly string[]) {
    this.#model = model;
    this.#credentials = credentials;
  }

  current = (): SecretMasker => {
    if (this.#version !== this.#model.secretsVersion) {
      this.#masker = new SecretMasker(this.values());
      this.#version = this.#model.secretsVersion;
    }
    return this.#masker;
  };

  mask = (text: string): string => this.current().mask(text).text;

  stream(): OutputMasker {
    return createStreamMasker(this.current);
  }

  /** The values masked now: secrets and credentials. */
  values(): string[] {
    return [...new Set([...this.#model.secrets, ...this.#credentials])];
  }

  source(): MaskSource {
    return { version: this.#model.secretsVersion, values: this.values() };
  }
}
