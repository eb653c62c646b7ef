import type { ZodObject, z as Zod } from "zod";
import type { OutputMasker } from "../redaction/masker.js";

export type { OutputMasker };

/** A value in `[secret_manager]`: TOML strings, integers and booleans. */
export type ConfigValue = string | number | boolean;

/**
 * `[secret_manager]` of notebook.toml: `provider` plus that provider's own keys
 * (Infisical: `project_id`, `environment`, `path`, `base_url`).
 */
export interface SecretManagerConfig {
  provider?: string;
  [key: string]: ConfigValue | undefined;
}

/** A provider's own `[secret_manager]` keys, validated by its `configSchema` (no `provider`). */
export type ProviderConfig = Readonly<Record<string, ConfigValue>>;

/** What a provider answers. Failures are returned in `error`, never thrown. */
export interface FetchResult {
  secrets: Record<string, string>;
  /** ISO-8601 UTC time of the answer. */
  fetchedAt: string;
  error: string | null;
  /** Keys the manager holds but that cannot become variables, with the reason (no value). */
  refused?: Record<string, string>;
  /** The manager's own version id per key, where it has one. Never a value or a hash of one. */
  versions?: Record<string, string>;
  /** A remark shown in `status().notice`, e.g. a scope the manager imposed. Never a value. */
  notice?: string;
}

/** What a provider's `fetch` gets besides its config. */
export interface FetchContext {
  /** Aborted at the deadline or when the plugin closes: stop and return. */
  signal: AbortSignal;
  /** The deadline of this fetch, ms (for messages; the registry enforces it). */
  timeoutMs: number;
  /**
   * The provider's `credentialNames` and `settingNames`, snapshotted when the plugin was
   * created (never read live: `process.env` is what the plugin patches).
   */
  credentials: Readonly<Record<string, string | undefined>>;
  /** The notebook's directory (relative paths in `[secret_manager]` resolve against it). */
  notebookDir: string;
}

/**
 * A secret manager: one file in plugin/providers/ (protocol v2). Adding one touches no core
 * file: register it with `providers: { name: provider }`.
 * @example
 * const memory: SecretProvider = {
 *   name: "memory",
 *   credentialNames: ["MEMORY_TOKEN"],
 *   configSchema: (z) => z.strictObject({ bucket: z.string() }),
 *   async fetch(config, ctx) {
 *     if (!ctx.credentials.MEMORY_TOKEN) return { secrets: {}, fetchedAt: new Date().toISOString(), error: "No Memory credentials in the process environment. Set MEMORY_TOKEN." };
 *     return { secrets: { A: "1" }, fetchedAt: new Date().toISOString(), error: null };
 *   },
 * };
 */
export interface SecretProvider {
  /** The `provider` value in notebook.toml and the source badge ("infisical" -> INFISICAL). */
  name: string;
  /**
   * Environment variables that are this provider's credentials: snapshotted at creation,
   * removed from the env cells see (unless `scrubCredentials: false`), masked in output.
   */
  credentialNames: readonly string[];
  /**
   * Credentials that cells commonly need themselves (AWS keys for S3): snapshotted at
   * creation and masked in output, but left in the env cells see.
   */
  sharedCredentialNames?: readonly string[];
  /** Other environment variables it reads (hosts, defaults): snapshotted at creation only. */
  settingNames?: readonly string[];
  /**
   * Its own `[secret_manager]` keys (besides `provider`), as a zod object built with the `z`
   * it is given (zod loads lazily). Use `strictObject` so typos are reported.
   */
  configSchema(z: typeof Zod): ZodObject;
  /**
   * Optional: a fetch with these credentials is coming (called by `open()` while the notebook
   * is read). Start what is slow to start (an SDK import, a worker); never fetch or throw.
   */
  prepare?(ctx: Pick<FetchContext, "credentials">): void;
  /** Reads the secrets. Returns failures in `error`; throws only for programming errors. */
  fetch(config: ProviderConfig, ctx: FetchContext): Promise<FetchResult>;
  /**
   * Optional: watch the source of `config` (files kept by an agent or operator) and call
   * `changed()` when it may have changed; the plugin then fetches again (one at a time) and
   * applies the result between cells. Called when the section comes into force; the
   * returned `close` when it leaves (another config, `plugin.close()`).
   */
  watch?(config: ProviderConfig, ctx: Pick<FetchContext, "credentials" | "notebookDir">, changed: () => void): { close(): Promise<void> };
  /** Releases what the provider holds (workers, sockets). Called by `plugin.close()`. */
  close?(): Promise<void>;
}

/** Options of the built-in Infisical provider (`createInfisicalProvider`). */
export interface InfisicalProviderOptions {
  /** First back-off delay (doubled each time) when the answer has no Retry-After, ms (default 1,000). */
  retryMinTimeoutMs?: number;
  /** Retries of a 429, a 5xx or a dropped connection, inside the fetch's deadline (default 2). */
  retries?: number;
}

/** One env row as the Runtime panel shows it. Never carries a value. */
export interface EnvRow {
  key: string;
  /** "manual", or the provider name when the value comes from the manager. */
  source: string;
  /** The name matches the sensitive-name rule. */
  sensitive: boolean;
  /** The value is never shown (fetched, sensitive, or a copy of a secret): `maskedEnv()` gives the marker. */
  hidden: boolean;
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
  /** A remark from the last fetch (e.g. a scope the manager imposed), or null. */
  notice: string | null;
}

/** A managed key a cell read, and where the value it saw came from. Never a value. */
export interface CellRead {
  key: string;
  /** "manual" or the provider name. */
  source: string;
  /** The manager's version id ("infisical@7") or a session-local counter ("s12"). */
  version: string;
  /** The value in force now is still the one the cell saw. */
  current: boolean;
}

/**
 * Which managed keys each cell last read and the manager's version id of each value — never a
 * value, never a hash of one; session-local counters are left out. `provenance()` /
 * `restoreProvenance()`: a kernel keeps it across restarts.
 */
export type CellProvenance = Record<string, Record<string, { source: string; version: string }>>;

/** A cell that ran with values that are no longer current, and which keys changed. */
export interface StaleCell {
  id: string;
  keys: string[];
}

/** Events: names and messages only, never a value. */
export type PluginEvent =
  | { type: "config-reloaded"; secretManagerChanged: boolean; envChanged: boolean }
  | { type: "config-invalid"; error: string }
  | { type: "fetch-started"; provider: string }
  | { type: "secrets-fetched"; provider: string; fetchedAt: string; added: string[]; removed: string[]; changed: string[] }
  | { type: "fetch-failed"; provider: string | null; error: string }
  | { type: "env-saved"; written: boolean }
  | { type: "cells-stale"; cells: StaleCell[] };

export interface WatchOptions {
  /** chokidar polling (network drives, containers). @example { usePolling: true, interval: 100 } */
  usePolling?: boolean;
  /** Polling interval in ms (default 100). */
  interval?: number;
  /** Delay of the trailing re-read after the last event of a burst, ms (default 80). */
  settleMs?: number;
}

export interface SecretManagerPluginOptions {
  /** Directory holding notebook.toml. @example "./notebooks/sales" */
  notebookDir: string;
  /** The object patched before each cell (default `process.env`). @example {} (tests) */
  env?: Record<string, string | undefined>;
  /**
   * Where providers read their credentials and settings (default `process.env`),
   * snapshotted at creation. @example { INFISICAL_TOKEN: "st...." }
   */
  credentials?: Readonly<Record<string, string | undefined>>;
  /**
   * Remove every provider's credential variables from `env` while the plugin is open
   * (default true). @example false (a kernel whose cells need the same AWS keys)
   */
  scrubCredentials?: boolean;
  /** Extra or replacement providers by name. @example { memory: memoryProvider } */
  providers?: Record<string, SecretProvider>;
  /** Watch notebook.toml and reload on save (default true). @example { usePolling: true } */
  watch?: boolean | WatchOptions;
  /** Deadline of one fetch, ms (default 20,000). @example 5_000 */
  fetchTimeoutMs?: number;
  /**
   * The shortest `refresh_interval` accepted in `[secret_manager]`, ms (default 30,000: a
   * manager polled more often rate-limits a team). Lower it for tests and local fixtures.
   */
  minRefreshIntervalMs?: number;
  /** Manager values for these code-injecting names are applied anyway. @example ["NODE_OPTIONS"] */
  allowUnsafeNames?: readonly string[];
  /**
   * After each cell, put back managed values the cell overwrote or deleted (default true).
   * @example false
   */
  reassertAfterCell?: boolean;
  /** Extra sensitive-name patterns, added to KEY/SECRET/TOKEN/PASSWORD/CREDENTIAL. @example [/PASS/i, /DSN$/] */
  sensitivePatterns?: readonly RegExp[];
  /** Called for each event (names only, never values). A throwing listener is reported once. @example (e) => console.log(e.type) */
  onEvent?: (event: PluginEvent) => void;
}

export interface CellRef {
  id: string;
}

/** The secret manager plugin of one notebook. */
export interface SecretManagerPlugin extends AsyncDisposable {
  /** "strata-secrets": how kernels name this plugin in messages. */
  readonly name: string;
  /**
   * Reads notebook.toml, fetches, starts watching. A failed fetch does not throw: it shows
   * in `status()`. Idempotent (the same promise every call).
   * @example await plugin.open();
   */
  open(): Promise<void>;
  /**
   * Synchronous: brings the env up to date for this cell and overlays its `[cells.env]`.
   * @example plugin.beforeCellRun({ id: "load-data" });
   */
  beforeCellRun(cell: CellRef): void;
  /**
   * Synchronous: drops the cell's overlay and puts back managed values it changed.
   * @example plugin.afterCellRun({ id: "load-data" });
   */
  afterCellRun(cell: CellRef): void;
  /**
   * Fetches again now (the Refresh button); concurrent calls share one fetch.
   * @example await plugin.refresh();
   */
  refresh(): Promise<void>;
  /** The env rows, never a value. @example plugin.rows().filter((r) => r.stale) */
  rows(): EnvRow[];
  /** The secret-manager status. @example if (plugin.status().error) console.warn(plugin.status().error) */
  status(): PluginStatus;
  /** key -> value, or MASKED ("__strata_masked__") where the row is hidden. @example plugin.maskedEnv().LOG_LEVEL */
  maskedEnv(): Record<string, string>;
  /**
   * The Runtime panel's save: MASKED keeps the current value, a key left out is removed,
   * a new value replaces and becomes manual. With `basedOn` (an `envRevision()` read when
   * the values were shown), a save made from an outdated view is refused with CONFLICT.
   * @example await plugin.saveEnv({ ...plugin.maskedEnv(), LOG_LEVEL: "debug" }, { basedOn: shownRevision });
   */
  saveEnv(env: Record<string, string>, options?: { basedOn?: number }): Promise<void>;
  /**
   * A number that changes whenever `[env]` on disk or a value typed this session changes.
   * @example const shownRevision = plugin.envRevision();
   */
  envRevision(): number;
  /**
   * Writes `[secret_manager]` (null removes it), reloads and fetches.
   * @example await plugin.saveSecretManagerConfig({ provider: "infisical", project_id: "p", path: "/app" });
   */
  saveSecretManagerConfig(config: SecretManagerConfig | null): Promise<void>;
  /** `text` with every known secret value masked as `***`. @example plugin.maskOutput(log) */
  maskOutput(text: string): string;
  /**
   * The managed keys a cell read when it last ran (a get on the name; reading the whole
   * environment — `Object.keys`, a spread, a child process with the default env — counts as
   * reading every managed key), with the source and version of each value. Null when it read
   * none or reads are not tracked (an `env` other than `process.env`).
   * @example plugin.cellReads("cell-2") // [{ key: "API_KEY", source: "infisical", version: "infisical@3", current: false }]
   */
  cellReads(id: string): CellRead[] | null;
  /** Cells that ran with a value that has since changed (rotated, removed, another source), in run order. */
  staleCells(): StaleCell[];
  /**
   * What each cell last read, with the manager's version ids (keys whose version is only a
   * session-local counter are left out), for a kernel to keep across restarts. No values.
   * @example await writeFile(".strata/provenance.json", JSON.stringify(plugin.provenance()))
   */
  provenance(): CellProvenance;
  /**
   * Seeds what cells read in an earlier session (`provenance()`'s shape; malformed entries are
   * skipped, cells already run in this session are kept). Cells whose values changed since are
   * stale at once (a `cells-stale` event). Returns how many cells were taken.
   */
  restoreProvenance(data: unknown): number;
  /**
   * A streaming masker: `write(chunk)` returns text safe to emit now, `flush()` the rest.
   * @example const m = plugin.createOutputMasker(); out(m.write(chunk)); out(m.flush());
   */
  createOutputMasker(): OutputMasker;
  /** The `[secret_manager]` in force (last good), or null. @example plugin.secretManagerConfig()?.provider */
  secretManagerConfig(): SecretManagerConfig | null;
  /**
   * The registered providers and their `[secret_manager]` fields (for a settings form).
   * @example (await plugin.describeProviders()).map((p) => p.name) // ["infisical", ...]
   */
  describeProviders(): Promise<ProviderDescription[]>;
  /** Idempotent: restores the env, stops watching and any fetch. @example await plugin.close(); */
  close(): Promise<void>;
}

/** One field of a provider's `[secret_manager]` form (from its config schema). */
export interface ProviderField {
  key: string;
  title: string;
  description?: string;
  type: "string" | "integer" | "boolean" | "choice";
  /** The allowed values of a "choice" field, as strings. */
  choices?: string[];
  examples?: string[];
}

/** A provider as the Runtime panel's form shows it. */
export interface ProviderDescription {
  /** The `provider` value. */
  name: string;
  /** The source badge of its rows. */
  badge: string;
  fields: ProviderField[];
}
