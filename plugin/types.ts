/** `[secret_manager]` of notebook.toml, validated. */
export interface SecretManagerConfig {
  provider?: string;
  project_id?: string;
  environment?: string;
  path?: string;
  base_url?: string;
}

/** What a provider answers. Failures are returned in `error`, never thrown. */
export interface FetchResult {
  secrets: Record<string, string>;
  /** The provider name, shown as the row's source badge. */
  source: string;
  /** ISO-8601 UTC time of the answer. */
  fetchedAt: string;
  error: string | null;
}

export interface FetchContext {
  /** Aborted at the deadline or when the plugin closes. */
  signal: AbortSignal;
  timeoutMs: number;
  /** Snapshot of the kernel's credentials taken when the plugin was created. */
  credentials: Readonly<Record<string, string | undefined>>;
}

/** A secret manager. One file in plugin/providers/ per manager. */
export interface SecretProvider {
  name: string;
  fetch(config: SecretManagerConfig, ctx: FetchContext): Promise<FetchResult>;
  /** Releases what the provider holds (workers, sockets). Called by `plugin.close()`. */
  close?(): Promise<void>;
}

/** Options of the built-in Infisical provider (`createInfisicalProvider`). */
export interface InfisicalProviderOptions {
  /** First back-off delay before retrying a 5xx, ms (default 1,000). */
  retryMinTimeoutMs?: number;
  /** Retries of a 5xx answer (default 2). */
  retries?: number;
}

/** One env row as the Runtime panel shows it. Never carries a value. */
export interface EnvRow {
  key: string;
  /** "manual", or the provider name when the value comes from the manager. */
  source: string;
  sensitive: boolean;
  /** The value comes from a fetch that has since failed. */
  stale: boolean;
  /** Why the value is not applied, when it is not. */
  refused?: string;
}

export interface PluginStatus {
  configured: boolean;
  provider: string | null;
  fetchedAt: string | null;
  fetching: boolean;
  configError: string | null;
  fetchError: string | null;
  /** `configError ?? fetchError` */
  error: string | null;
}

/** Events: names and messages only, never a value. */
export type PluginEvent =
  | { type: "config-reloaded"; secretManagerChanged: boolean; envChanged: boolean }
  | { type: "config-invalid"; error: string }
  | { type: "fetch-started"; provider: string }
  | { type: "secrets-fetched"; provider: string; fetchedAt: string; added: string[]; removed: string[]; changed: string[] }
  | { type: "fetch-failed"; provider: string | null; error: string }
  | { type: "env-saved"; written: boolean };

export interface WatchOptions {
  /** chokidar polling (network drives, containers). */
  usePolling?: boolean;
  /** Polling interval in ms. */
  interval?: number;
  /** Delay of the trailing re-read after the last event of a burst, ms (default 80). */
  settleMs?: number;
}

export interface SecretManagerPluginOptions {
  /** Directory holding notebook.toml. */
  notebookDir: string;
  /** The object patched before each cell (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** Where INFISICAL_* are read (default `process.env`); snapshotted at creation. */
  credentials?: Readonly<Record<string, string | undefined>>;
  /** Remove INFISICAL_CLIENT_ID/_SECRET/_TOKEN from `env` while the plugin is open (default true). */
  scrubCredentials?: boolean;
  /** Extra or replacement providers by name. */
  providers?: Record<string, SecretProvider>;
  /** Watch notebook.toml and reload on save (default true). */
  watch?: boolean | WatchOptions;
  /** Deadline of one fetch, ms (default 20,000). */
  fetchTimeoutMs?: number;
  /** Manager values for these code-injecting names are applied anyway (e.g. ["NODE_OPTIONS"]). */
  allowUnsafeNames?: string[];
  /**
   * After each cell, put back managed values the cell overwrote or deleted (default true).
   * Costs one env read per managed key per cell: about 0.2 µs each with a typical
   * environment, about 3 µs each when process.env holds a thousand variables.
   */
  reassertAfterCell?: boolean;
  /** Extra sensitive-name patterns, added to KEY/SECRET/TOKEN/PASSWORD/CREDENTIAL. */
  sensitivePatterns?: RegExp[];
  onEvent?: (event: PluginEvent) => void;
}

export interface CellRef {
  id: string;
}

/** Streaming masker: `write` returns what is safe to emit now, `flush` the held-back rest. */
export interface OutputMasker {
  write(chunk: string): string;
  flush(): string;
}

export interface SecretManagerPlugin extends AsyncDisposable {
  open(): Promise<void>;
  beforeCellRun(cell: CellRef): void;
  afterCellRun(cell: CellRef): void;
  refresh(): Promise<void>;
  rows(): EnvRow[];
  status(): PluginStatus;
  maskedEnv(): Record<string, string>;
  saveEnv(env: Record<string, string>): Promise<void>;
  saveSecretManagerConfig(config: SecretManagerConfig | null): Promise<void>;
  maskOutput(text: string): string;
  createOutputMasker(): OutputMasker;
  /** The current `[secret_manager]` (last good), or null. */
  secretManagerConfig(): SecretManagerConfig | null;
  close(): Promise<void>;
}
