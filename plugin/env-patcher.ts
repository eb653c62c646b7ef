import { isSensitiveName } from "../redaction/sensitive.js";
import type { EnvChange } from "./env-model.js";
import { EnvTracker, type CellAccess } from "./env-tracker.js";

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

export interface PatcherOptions {
  /** The pending changes of the session env (drained on each call). */
  takeChanges: () => readonly EnvChange[];
  /** After a cell, put back managed values it overwrote or deleted. */
  reassert: boolean;
  sensitivePatterns: readonly RegExp[];
  /** Why an overlay value may not be applied (invalid, or an unsafe name), or undefined. */
  refusal: (key: string, value: string) => string | undefined;
}

/**
 * Brings a target env (process.env by default) in line with the session env, one change
 * list at a time, and remembers what the kernel had so every key can be restored. Between
 * cells (once one ran) a change is applied as soon as it is known; during a cell the env
 * stays stable and the change lands when the cell ends.
 */
export class EnvPatcher {
  readonly #env: Env;
  readonly #options: PatcherOptions;
  /** What the env held for a key before the plugin first set it. */
  readonly #originals = new Map<string, string | undefined>();
  /** What the plugin set, per key. */
  readonly #applied = new Map<string, string>();
  /** Values the current cell overlay replaced. */
  #overlay: Map<string, string | undefined> | null = null;
  #cellsStarted = false;
  #inCell = false;
  #stopped = false;
  /** Tells which names a cell wrote when `env` is process.env; null for a host's own object. */
  readonly #tracker: EnvTracker | null;
  #lastAccess: CellAccess | null = null;

  constructor(env: Env, options: PatcherOptions) {
    this.#env = env;
    this.#options = options;
    this.#tracker = EnvTracker.forProcessEnv(env, (name) => this.#applied.has(name));
  }

  /** What the last cell wrote and read (managed names), when tracked. */
  get lastAccess(): CellAccess | null {
    return this.#lastAccess;
  }

  /**
   * The session env changed: applied now when no cell is running. During a cell on the
   * tracked process.env it is applied too (the next cell pays nothing for it), while the
   * running cell keeps seeing the old values through the Proxy: its env stays stable.
   */
  changed(): void {
    if (!this.#cellsStarted || this.#stopped) return;
    if (!this.#inCell) this.#apply(this.#options.takeChanges());
    else if (this.#tracker?.active) this.#apply(this.#options.takeChanges(), this.#tracker);
  }

  /** Before a cell: pending changes, then the cell's own `[cells.env]` overlay. */
  beginCell(overlay: ReadonlyMap<string, string> | undefined): void {
    this.#cellsStarted = true;
    this.#inCell = true;
    this.#apply(this.#options.takeChanges());
    if (overlay) this.#applyOverlay(overlay);
    this.#tracker?.install();
    this.#tracker?.begin();
  }

  /**
   * After a cell: the overlay goes, managed values the cell changed come back, pending
   * changes land. With process.env, only the names the cell wrote are looked at.
   */
  endCell(): void {
    this.#inCell = false;
    const access = this.#tracker?.end() ?? null;
    this.#lastAccess = access;
    this.#dropOverlay();
    if (this.#options.reassert) {
      // Tracked: the names the cell wrote are written back (no read: a getenv scans the
      // whole environment too). Untracked (a host's own object): compare every managed value.
      if (access) this.#writeBack(access.written);
      else this.#reassert(this.#applied.keys());
    }
    this.#apply(this.#options.takeChanges());
  }

  /** Restores every key the plugin set to what the kernel had; applies nothing after. */
  restoreAll(): void {
    this.#stopped = true;
    this.#tracker?.uninstall();
    this.#dropOverlay();
    for (const key of this.#applied.keys()) restore(this.#env, key, this.#originals.get(key));
    this.#applied.clear();
    this.#originals.clear();
  }

  #apply(changes: readonly EnvChange[], running?: EnvTracker): void {
    const env = this.#env;
    for (const [key, want] of changes) {
      running?.keepForCell(key, read(env, key));
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
  }

  /** Blank sensitive values and invalid names of an overlay are skipped. */
  #applyOverlay(cellEnv: ReadonlyMap<string, string>): void {
    this.#dropOverlay();
    const saved = new Map<string, string | undefined>();
    for (const [key, value] of cellEnv) {
      if (this.#options.refusal(key, value)) continue;
      if (value === "" && isSensitiveName(key, this.#options.sensitivePatterns)) continue;
      saved.set(key, read(this.#env, key));
      write(this.#env, key, value);
    }
    this.#overlay = saved;
  }

  #dropOverlay(): void {
    const saved = this.#overlay;
    if (!saved) return;
    this.#overlay = null;
    for (const [key, value] of saved) restore(this.#env, key, value);
  }

  /** Puts back the managed values among `keys` (names a cell wrote or deleted). */
  #writeBack(keys: Iterable<string>): void {
    for (const key of keys) {
      const value = this.#applied.get(key);
      if (value !== undefined) write(this.#env, key, value);
    }
  }

  /** Puts back the managed values among `keys` that differ from what the plugin set. */
  #reassert(keys: Iterable<string>): void {
    const env = this.#env;
    for (const key of keys) {
      const value = this.#applied.get(key);
      if (value !== undefined && read(env, key) !== value) write(env, key, value);
    }
  }
}
