type Env = Record<string, string | undefined>;

/** What a cell did to the environment while it ran. */
export interface CellAccess {
  /** Names it set, deleted or redefined. */
  written: ReadonlySet<string>;
  /** Tracked names it read (a get or an `in`). */
  read: ReadonlySet<string>;
  /** It read the whole environment (keys, spread, a child process with the default env). */
  readAll: boolean;
}

/**
 * Tells which names a cell wrote (and which tracked names it read) without scanning the
 * environment: `process.env` is replaced, once, by a Proxy over the real object that
 * forwards every operation — child processes, `Object.keys(process.env)` and native code
 * see the same environment — and records names while a cell runs. Cost per cell: two
 * flag flips and the names the cell touched; nothing proportional to the environment.
 *
 * A reference to `process.env` taken before the first cell is the real object: writes
 * through it are not seen (the caller falls back to comparing managed values then).
 */
export class EnvTracker {
  readonly #real: Env;
  readonly #tracked: (name: string) => boolean;
  #recording = false;
  #written = new Set<string>();
  #read = new Set<string>();
  #readAll = false;
  #proxy: Env | null = null;
  /**
   * Values the running cell keeps seeing while the real environment already has newer ones
   * (a rotation applied during the cell): name -> the old value, or undefined for "absent".
   */
  readonly #shadow = new Map<string, string | undefined>();

  private constructor(real: Env, tracked: (name: string) => boolean) {
    this.#real = real;
    this.#tracked = tracked;
  }

  /**
   * A tracker for `env` when it is `process.env` and can be replaced; null otherwise (a
   * plain object given by a host: nothing runs behind its back, it can be compared cheaply).
   */
  static forProcessEnv(env: Env, tracked: (name: string) => boolean): EnvTracker | null {
    if (env !== process.env) return null;
    const descriptor = Object.getOwnPropertyDescriptor(process, "env");
    if (!descriptor?.writable && !descriptor?.set) return null;
    return new EnvTracker(env, tracked);
  }

  /** Puts the Proxy in place of `process.env` (idempotent). */
  install(): void {
    if (this.#proxy) return;
    const self = this;
    const real = this.#real;
    const wrote = (key: string | symbol) => {
      if (self.#recording && typeof key === "string") self.#written.add(key);
    };
    const touched = (key: string | symbol) => {
      if (self.#recording && typeof key === "string" && self.#tracked(key)) self.#read.add(key);
    };
    const shadow = this.#shadow;
    const shadowed = (key: string | symbol): key is string => shadow.size > 0 && typeof key === "string" && shadow.has(key);
    this.#proxy = new Proxy(real, {
      get: (target, key) => (touched(key), shadowed(key) ? shadow.get(key) : Reflect.get(target, key)),
      has: (target, key) => (touched(key), shadowed(key) ? shadow.get(key) !== undefined : Reflect.has(target, key)),
      // The cell's own write wins over a shadowed value.
      set: (target, key, value) => (wrote(key), typeof key === "string" && shadow.delete(key), Reflect.set(target, key, value)),
      deleteProperty: (target, key) => (wrote(key), typeof key === "string" && shadow.delete(key), Reflect.deleteProperty(target, key)),
      defineProperty: (target, key, attributes) => (wrote(key), typeof key === "string" && shadow.delete(key), Reflect.defineProperty(target, key, attributes)),
      getOwnPropertyDescriptor: (target, key) => {
        if (!shadowed(key)) return Reflect.getOwnPropertyDescriptor(target, key);
        const value = shadow.get(key);
        return value === undefined ? undefined : { value, writable: true, enumerable: true, configurable: true };
      },
      ownKeys: (target) => {
        if (self.#recording) self.#readAll = true;
        const keys = Reflect.ownKeys(target);
        if (shadow.size === 0) return keys;
        const visible = keys.filter((k) => typeof k !== "string" || !shadow.has(k) || shadow.get(k) !== undefined);
        for (const [k, v] of shadow) if (v !== undefined && !Object.hasOwn(target, k)) visible.push(k);
        return visible;
      },
    });
    (process as { env: Env }).env = this.#proxy;
  }

  /** Starts recording for a cell. */
  begin(): void {
    if (this.#shadow.size > 0) this.#shadow.clear();
    if (this.#written.size > 0) this.#written.clear();
    if (this.#read.size > 0) this.#read.clear();
    this.#readAll = false;
    this.#recording = true;
  }

  /** Stops recording; what the cell did (valid until the next `begin`). The cell's shadow goes. */
  end(): CellAccess {
    this.#recording = false;
    if (this.#shadow.size > 0) this.#shadow.clear();
    this.#access.readAll = this.#readAll;
    return this.#access;
  }

  /** One object, reused: the per-cell path allocates nothing. */
  readonly #access: { written: ReadonlySet<string>; read: ReadonlySet<string>; readAll: boolean } = { written: this.#written, read: this.#read, readAll: false };

  /** Whether a cell is running (recording) with the Proxy in place. */
  get active(): boolean {
    return this.#recording && this.#proxy !== null;
  }

  /**
   * The running cell keeps seeing `value` for `name` (undefined: absent) while the real
   * environment changes under it; the first old value wins; a name the cell wrote is its own.
   */
  keepForCell(name: string, value: string | undefined): void {
    if (this.#recording && !this.#shadow.has(name) && !this.#written.has(name)) this.#shadow.set(name, value);
  }

  /** Puts the real object back as `process.env` (the Proxy, if kept somewhere, still forwards). */
  uninstall(): void {
    this.#recording = false;
    this.#shadow.clear();
    if (this.#proxy && process.env === this.#proxy) (process as { env: Env }).env = this.#real;
    this.#proxy = null;
  }
}
