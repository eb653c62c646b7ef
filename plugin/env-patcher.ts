import { isSensitiveName, invalidEnvReason } from "../redaction/sensitive.js";
import type { EnvModel } from "./env-model.js";

type Env = Record<string, string | undefined>;

/** One access per read: process.env lookups are a linear scan of the C environ. */
function read(env: Env, key: string): string | undefined {
  if (key === "__proto__") return Object.getOwnPropertyDescriptor(env, key)?.value as string | undefined;
  const value = env[key];
  if (typeof value === "string") return value;
  // Inherited members of a plain object (constructor, toString) are not env values.
  return Object.hasOwn(env, key) ? value : undefined;
}

/** Assigns as an own property, so that `__proto__` is a plain name, not the prototype. */
function write(env: Env, key: string, value: string): void {
  if (key === "__proto__") Object.defineProperty(env, key, { value, writable: true, enumerable: true, configurable: true });
  else env[key] = value;
}

function restore(env: Env, key: string, value: string | undefined): void {
  if (value === undefined) delete env[key];
  else write(env, key, value);
}

/**
 * Brings a target env (process.env by default) in line with an EnvModel, touching only
 * the keys that changed, and remembers what the kernel had so every key can be restored.
 */
export class EnvPatcher {
  readonly #env: Env;
  /** What the env held for a key before the plugin first set it. */
  readonly #originals = new Map<string, string | undefined>();
  /** What the plugin set, per key. */
  readonly #applied = new Map<string, string>();
  #version = -1;
  /** Values the current cell overlay replaced. */
  #overlay: Map<string, string | undefined> | null = null;

  constructor(env: Env) {
    this.#env = env;
  }

  /** True when nothing changed since the last sync (the per-cell fast path). */
  upToDate(model: EnvModel): boolean {
    return model.version === this.#version;
  }

  sync(model: EnvModel): void {
    if (model.version === this.#version) return;
    const env = this.#env;
    for (const key of model.dirty) {
      const want = model.desired.get(key);
      if (want !== undefined) {
        if (!this.#originals.has(key)) this.#originals.set(key, read(env, key));
        write(env, key, want);
        this.#applied.set(key, want);
      } else if (this.#applied.has(key)) {
        restore(env, key, this.#originals.get(key));
        this.#applied.delete(key);
        this.#originals.delete(key);
      }
    }
    model.dirty.clear();
    this.#version = model.version;
  }

  /** Overlays a cell's own `[cells.env]`; blank sensitive values and invalid names are skipped. */
  applyOverlay(cellEnv: ReadonlyMap<string, string>, patterns: readonly RegExp[]): void {
    this.dropOverlay();
    const saved = new Map<string, string | undefined>();
    for (const [key, value] of cellEnv) {
      if (invalidEnvReason(key, value)) continue;
      if (value === "" && isSensitiveName(key, patterns)) continue;
      saved.set(key, read(this.#env, key));
      write(this.#env, key, value);
    }
    this.#overlay = saved;
  }

  dropOverlay(): void {
    const saved = this.#overlay;
    if (!saved) return;
    this.#overlay = null;
    for (const [key, value] of saved) restore(this.#env, key, value);
  }

  /** Puts back managed values a cell overwrote or deleted, so the next cell sees them again. */
  reassert(): void {
    const env = this.#env;
    for (const [key, value] of this.#applied) if (read(env, key) !== value) write(env, key, value);
  }

  /** Restores every key the plugin set to what the kernel had. */
  restoreAll(): void {
    this.dropOverlay();
    for (const key of this.#applied.keys()) restore(this.#env, key, this.#originals.get(key));
    this.#applied.clear();
    this.#originals.clear();
    this.#version = -1;
  }
}
