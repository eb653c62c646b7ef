import { createStreamMasker, SecretMasker, type OutputMasker } from "../redaction/masker.js";
import type { EnvModel } from "./env-model.js";

/** The output masker of the session's current secret set, rebuilt only when that set changes. */
export class Masking {
  readonly #model: EnvModel;
  #masker = new SecretMasker([]);
  #version = -1;

  constructor(model: EnvModel) {
    this.#model = model;
  }

  current = (): SecretMasker => {
    if (this.#version !== this.#model.secretsVersion) {
      this.#masker = new SecretMasker(this.#model.secrets);
      this.#version = this.#model.secretsVersion;
    }
    return this.#masker;
  };

  mask = (text: string): string => this.current().mask(text).text;

  stream(): OutputMasker {
    return createStreamMasker(this.current);
  }
}
