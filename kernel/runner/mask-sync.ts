import { MASK_SOURCE, type MaskSource } from "../../plugin/masking.js";
import type { SecretManagerPlugin } from "../../plugin/types.js";
import type { RunnerMessage } from "./protocol.js";

/**
 * Keeps the supervisor's masker up to date with the plugin's values. `sync()` resolves once
 * the supervisor acknowledged the values in force now: awaited before every cell, so a cell
 * never sees a value the supervisor would not mask.
 */
export class MaskSync {
  readonly #plugin: SecretManagerPlugin;
  readonly #send: (message: RunnerMessage) => void;
  #sent = -1;
  #acked = -1;
  #waiting: { version: number; resolve: () => void }[] = [];

  constructor(plugin: SecretManagerPlugin, send: (message: RunnerMessage) => void) {
    this.#plugin = plugin;
    this.#send = send;
  }

  sync(): Promise<void> {
    const source = (this.#plugin as unknown as { [MASK_SOURCE]: () => MaskSource })[MASK_SOURCE]();
    if (source.version <= this.#acked) return Promise.resolve();
    if (source.version !== this.#sent) {
      this.#sent = source.version;
      this.#send({ t: "mask", version: source.version, values: source.values });
    }
    return new Promise((resolve) => this.#waiting.push({ version: source.version, resolve }));
  }

  /** The supervisor masks everything up to `version`. */
  acked(version: number): void {
    this.#acked = Math.max(this.#acked, version);
    const ready = this.#waiting.filter((w) => w.version <= this.#acked);
    this.#waiting = this.#waiting.filter((w) => w.version > this.#acked);
    for (const w of ready) w.resolve();
  }
}
