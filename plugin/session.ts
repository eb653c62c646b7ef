import type { NotebookParser, SecretManagerSection } from "./config.js";
import { EnvModel, type EnvInputs, type EnvRules } from "./env-model.js";
import { NotebookState } from "./notebook-state.js";
import type { FetchResult, PluginEvent, PluginStatus } from "./types.js";

/** How notebook text reached the session. */
export type TextOrigin = "open" | "watch" | "save-env" | "save-config";

/** The outcome of the fetches of one `[secret_manager]` generation. */
export interface FetchRecord {
  generation: number;
  provider: string;
  /** Time of the last successful fetch of this generation, or null. */
  fetchedAt: string | null;
  /** The last good values of this generation. */
  secrets: ReadonlyMap<string, string>;
  refused: ReadonlyMap<string, string>;
  versions: ReadonlyMap<string, string>;
  /** The last fetch's error, or null when it succeeded. */
  error: string | null;
  /** The last fetch failed and `secrets` are the last good ones. */
  stale: boolean;
  notice: string | null;
}

/** What to fetch: the section in force and its generation (a result for another is discarded). */
export interface FetchTarget {
  generation: number;
  section: SecretManagerSection;
}

export interface SessionDeps {
  parse: NotebookParser;
  rules: EnvRules;
  emit: (event: PluginEvent) => void;
  /** Called after an applied value changed (the plugin applies it between cells). */
  onEnvChange: () => void;
  /** Called after the set of values to mask changed (the masker is rebuilt off the print path). */
  onSecretsChange: () => void;
  /** Called after every recompute (a fetch, a reload, a save): stale cells are checked then. */
  onRecompute?: () => void;
}

const NONE = new Map<string, string>();

/**
 * The one owner of the session's state: the notebook's last good configuration, the values
 * typed this session, and the outcome of the fetches. It changes only through these
 * transitions: `ingest` (notebook text from open, the watcher or a save), `readFailed`,
 * `applyFetch` / `clearFetch` (a fetch ended), `setManual` (a panel save).
 */
export class Session {
  readonly model: EnvModel;
  readonly #notebook: NotebookState;
  readonly #deps: SessionDeps;
  #manual: ReadonlyMap<string, string> = NONE;
  #fetch: FetchRecord | null = null;
  #configError: string | null = null;
  #revision = 0;

  constructor(deps: SessionDeps) {
    this.#deps = deps;
    this.#notebook = new NotebookState(deps.parse);
    this.model = new EnvModel(deps.rules);
  }

  get section(): SecretManagerSection | null {
    return this.#notebook.secretManager;
  }

  get disk(): ReadonlyMap<string, string> {
    return this.#notebook.env;
  }

  get manual(): ReadonlyMap<string, string> {
    return this.#manual;
  }

  get fetched(): FetchRecord | null {
    return this.#fetch;
  }

  /** Counts changes of what a panel save edits: `[env]` on disk and the values typed this session. */
  get revision(): number {
    return this.#revision;
  }

  cellEnv(id: string): ReadonlyMap<string, string> | undefined {
    return this.#notebook.cellEnv.get(id);
  }

  /** Notebook text arrived (null: the file is gone). Returns whether the manager must be asked. */
  ingest(text: string | null, origin: TextOrigin): boolean {
    const { emit } = this.#deps;
    if (text === null || (origin === "watch" && text.trim() === "")) {
      this.#setConfigError(text === null ? "notebook.toml was deleted; keeping the last good configuration until it is back" : "notebook.toml is empty; keeping the last good configuration");
      return false;
    }
    const outcome = this.#notebook.apply(text);
    this.#setConfigError(outcome.errors.length > 0 ? outcome.errors.join("; ") : null);
    if (outcome.invalid) return false;
    if (outcome.envChanged) {
      this.#revision++;
      this.#recompute();
    }
    // Reading the file at open() is not a reload, nor is what the plugin wrote itself; what
    // came with a save from elsewhere is.
    const external = origin === "watch";
    const sm = outcome.secretManagerChanged && (external || origin === "save-env");
    const env = outcome.envChanged && (external || origin === "save-config");
    if (sm || env) emit({ type: "config-reloaded", secretManagerChanged: sm, envChanged: env });
    return outcome.secretManagerChanged;
  }

  /** notebook.toml could not be read (an errno code, or a sentence): the last good configuration stays. */
  readFailed(reason: string): void {
    const why = /^[A-Z_]+$/.test(reason) ? `notebook.toml could not be read: ${reason}` : reason;
    this.#setConfigError(`${why}; keeping the last good configuration`);
  }

  /** The fetch to run now, or null when no `[secret_manager]` is in force. */
  fetchTarget(): FetchTarget | null {
    const section = this.#notebook.secretManager;
    return section ? { generation: this.#notebook.generation, section } : null;
  }

  /**
   * A fetch ended. A result for an outdated generation is discarded ("outdated": fetch
   * again). A failure keeps this generation's last good values (stale) but never another
   * generation's: two configs' values do not mix.
   */
  applyFetch(result: FetchResult, target: FetchTarget): "applied" | "outdated" {
    if (target.generation !== this.#notebook.generation) return "outdated";
    const prev = this.#fetch;
    const provider = target.section.source;
    const notice = result.notice ?? null;
    if (result.error === null) {
      const secrets = new Map(Object.entries(result.secrets));
      const refused = new Map(Object.entries(result.refused ?? {}));
      const versions = new Map(Object.entries(result.versions ?? {}));
      this.#fetch = { generation: target.generation, provider, fetchedAt: result.fetchedAt, secrets, refused, versions, error: null, stale: false, notice };
      this.#recompute();
      const before = prev?.secrets ?? NONE;
      const added = [...secrets.keys()].filter((k) => !before.has(k));
      const removed = [...before.keys()].filter((k) => !secrets.has(k));
      const changed = [...secrets.keys()].filter((k) => before.has(k) && before.get(k) !== secrets.get(k));
      this.#deps.emit({ type: "secrets-fetched", provider, fetchedAt: result.fetchedAt, added, removed, changed });
    } else {
      const same = prev?.generation === target.generation;
      this.#fetch = same
        ? { ...prev, error: result.error, stale: prev.secrets.size > 0 || prev.refused.size > 0, notice }
        : { generation: target.generation, provider, fetchedAt: null, secrets: NONE, refused: NONE, versions: NONE, error: result.error, stale: false, notice };
      this.#recompute();
      this.#deps.emit({ type: "fetch-failed", provider, error: result.error });
    }
    return "applied";
  }

  /** No `[secret_manager]` is in force any more: the manager's values go. */
  clearFetch(): void {
    if (this.#fetch === null) return;
    this.#fetch = null;
    this.#recompute();
  }

  /** The values typed in the Runtime panel that live in memory only. */
  setManual(manual: ReadonlyMap<string, string>): void {
    this.#manual = manual;
    this.#revision++;
    this.#recompute();
  }

  status(fetching: boolean): PluginStatus {
    const section = this.#notebook.secretManager;
    const f = this.#fetch;
    const fetchError = f?.error ?? null;
    return {
      configured: section !== null,
      provider: section?.provider ?? null,
      fetchedAt: f?.fetchedAt ?? null,
      fetching,
      configError: this.#configError,
      fetchError,
      error: this.#configError ?? fetchError,
      notice: f?.notice ?? null,
    };
  }

  #setConfigError(error: string | null): void {
    this.#configError = error;
    if (error !== null) this.#deps.emit({ type: "config-invalid", error });
  }

  #recompute(): void {
    const f = this.#fetch;
    const inputs: EnvInputs = {
      manual: this.#manual,
      disk: this.#notebook.env,
      fetched: f ? { provider: f.provider, secrets: f.secrets, refused: f.refused, stale: f.stale, versions: f.versions } : null,
    };
    const secrets = this.model.secretsVersion;
    if (this.model.recompute(inputs)) this.#deps.onEnvChange();
    if (this.model.secretsVersion !== secrets) this.#deps.onSecretsChange();
    this.#deps.onRecompute?.();
  }
}
