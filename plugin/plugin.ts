import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { createStreamMasker, SecretMasker } from "../redaction/masker.js";
import { writeEnvTable, writeSecretManagerTable } from "../redaction/persist.js";
import { watchNotebook, type NotebookWatcher } from "../watchers/notebook-watcher.js";
import { EnvModel } from "./env-model.js";
import { EnvPatcher } from "./env-patcher.js";
import { ErrorCode, StrataSecretsError } from "./errors.js";
import { loadNotebookParser, type ParsedNotebook } from "./config.js";
import { NotebookState } from "./notebook-state.js";
import { createRegistry, runProvider } from "./registry.js";
import { planEnvSave } from "./save-env.js";
import { SingleFlight } from "./single-flight.js";
import type { PluginEvent, PluginStatus, SecretManagerConfig, SecretManagerPlugin, SecretManagerPluginOptions } from "./types.js";

const CREDENTIAL_NAMES = ["INFISICAL_CLIENT_ID", "INFISICAL_CLIENT_SECRET", "INFISICAL_TOKEN"] as const;

function checkOptions(options: SecretManagerPluginOptions): void {
  if (!options || typeof options.notebookDir !== "string" || options.notebookDir === "") {
    throw new TypeError("createSecretManagerPlugin: `notebookDir` must be a non-empty string");
  }
  const t = options.fetchTimeoutMs;
  if (t !== undefined && !(Number.isFinite(t) && t > 0)) throw new TypeError("createSecretManagerPlugin: `fetchTimeoutMs` must be a positive number");
  if (options.onEvent !== undefined && typeof options.onEvent !== "function") throw new TypeError("createSecretManagerPlugin: `onEvent` must be a function");
}

/**
 * Creates the plugin for one notebook. Nothing happens until `open()`.
 * @example
 * const plugin = createSecretManagerPlugin({ notebookDir: "./my-notebook" });
 * await plugin.open();
 * plugin.beforeCellRun({ id: "cell-1" });  // process.env now holds the secrets
 * // ... run the cell ...
 * plugin.afterCellRun({ id: "cell-1" });
 * await plugin.close();
 */
export function createSecretManagerPlugin(options: SecretManagerPluginOptions): SecretManagerPlugin {
  checkOptions(options);
  const notebookDir = resolve(options.notebookDir);
  const file = join(notebookDir, "notebook.toml");
  const env = options.env ?? (process.env as Record<string, string | undefined>);
  const timeoutMs = options.fetchTimeoutMs ?? 20_000;
  const patterns = options.sensitivePatterns ?? [];
  const reassert = options.reassertAfterCell ?? true;
  const source = options.credentials ?? process.env;
  const credentials: Readonly<Record<string, string | undefined>> = Object.freeze(
    Object.fromEntries(Object.entries(source).filter(([k]) => k.startsWith("INFISICAL_"))),
  );
  const scrubbed = new Map<string, string>();
  if (options.scrubCredentials ?? true) {
    for (const name of CREDENTIAL_NAMES) {
      const value = env[name];
      if (value !== undefined) {
        scrubbed.set(name, value);
        delete env[name];
      }
    }
  }
  const registry = createRegistry(options.providers);
  let notebook = new NotebookState(() => ({ secretManager: undefined, env: undefined, cells: undefined, errors: [], syntaxError: false }));
  const model = new EnvModel({ sensitivePatterns: patterns, allowUnsafeNames: options.allowUnsafeNames ?? [] });
  const patcher = new EnvPatcher(env);
  const lifetime = new AbortController();
  const watchOpts = typeof options.watch === "object" ? options.watch : {};
  let watcher: NotebookWatcher | null = null;
  let opening: Promise<void> | null = null;
  let closing: Promise<void> | null = null;
  let closed = false;
  let configError: string | null = null;
  let fetchError: string | null = null;
  let fetchedAt: string | null = null;
  let fetchedGeneration = -1;
  let masker = new SecretMasker([]);
  let maskerVersion = -1;

  function emit(event: PluginEvent): void {
    try {
      options.onEvent?.(event);
    } catch {
      // A listener's failure must not break a reload or a cell.
    }
  }

  function currentMasker(): SecretMasker {
    if (maskerVersion !== model.secretsVersion) {
      masker = new SecretMasker(model.secrets);
      maskerVersion = model.secretsVersion;
    }
    return masker;
  }

  const mask = (text: string) => currentMasker().mask(text).text;

  // Between cells (once the kernel has run one), a change is applied to the env as soon
  // as it is known, so the next beforeCellRun has nothing left to do. During a cell the
  // env stays as it was; the change lands at the next beforeCellRun.
  let cellsStarted = false;
  let inCell = false;
  function remerge(): void {
    if (model.recompute() && cellsStarted && !inCell && !closed) patcher.sync(model);
  }

  function assertOpen(): void {
    if (closed) throw new StrataSecretsError(ErrorCode.ALREADY_CLOSED, "The secret manager plugin is closed");
  }

  /** Saves and refreshes need the notebook read first. */
  async function opened(): Promise<void> {
    assertOpen();
    if (!opening) throw new StrataSecretsError(ErrorCode.NOT_OPEN, "Call open() before this method");
    await opening;
    assertOpen();
  }

  async function fetchOnce(): Promise<void> {
    const generation = notebook.generation;
    const config = notebook.secretManager;
    if (!config) {
      if (model.fetched) {
        model.fetched = null;
        model.provider = null;
        model.stale = false;
        remerge();
      }
      fetchError = null;
      fetchedAt = null;
      return;
    }
    emit({ type: "fetch-started", provider: config.provider ?? "" });
    const result = await runProvider(registry, config, { signal: lifetime.signal, timeoutMs, credentials });
    if (closed) return;
    if (generation !== notebook.generation) {
      fetches.again(); // computed for an outdated config: discarded, fetch again
      return;
    }
    if (result.error === null) {
      const next = new Map(Object.entries(result.secrets));
      const prev = model.fetched ?? new Map<string, string>();
      const added = [...next.keys()].filter((k) => !prev.has(k));
      const removed = [...prev.keys()].filter((k) => !next.has(k));
      const changed = [...next.keys()].filter((k) => prev.has(k) && prev.get(k) !== next.get(k));
      model.fetched = next;
      model.provider = result.source;
      model.stale = false;
      remerge();
      fetchError = null;
      fetchedAt = result.fetchedAt;
      fetchedGeneration = generation;
      emit({ type: "secrets-fetched", provider: result.source, fetchedAt: result.fetchedAt, added, removed, changed });
    } else {
      if (fetchedGeneration !== generation) {
        // The values of another config must not mix with this one's.
        model.fetched = null;
        model.stale = false;
        fetchedAt = null;
      } else {
        model.stale = model.fetched !== null;
      }
      remerge();
      fetchError = mask(result.error);
      emit({ type: "fetch-failed", provider: config.provider ?? null, error: fetchError });
    }
  }

  const fetches = new SingleFlight(fetchOnce);
  /** `force`: a config change, which queues exactly one more fetch after the one in flight. */
  const scheduleFetch = (force: boolean) => fetches.trigger(force);

  /** Takes new notebook.toml content; returns whether a fetch is needed. */
  function takeText(text: string | null, fromWatcher = false): boolean {
    if (text === null) {
      configError = "notebook.toml was deleted; keeping the last good configuration until it is back";
      emit({ type: "config-invalid", error: configError });
      return false;
    }
    if (fromWatcher && text.trim() === "") {
      configError = "notebook.toml is empty; keeping the last good configuration";
      emit({ type: "config-invalid", error: configError });
      return false;
    }
    const outcome = notebook.apply(text);
    configError = outcome.errors.length > 0 ? outcome.errors.join("; ") : null;
    if (configError) emit({ type: "config-invalid", error: configError });
    if (outcome.invalid) return false;
    if (outcome.envChanged) {
      model.disk = notebook.env;
      remerge();
    }
    if (outcome.secretManagerChanged || outcome.envChanged) {
      emit({ type: "config-reloaded", secretManagerChanged: outcome.secretManagerChanged, envChanged: outcome.envChanged });
    }
    return outcome.secretManagerChanged;
  }

  async function onFileText(text: string | null): Promise<void> {
    if (closed) return;
    if (takeText(text, true)) await scheduleFetch(true);
  }

  async function open(): Promise<void> {
    const parseText = await loadNotebookParser();
    // The watcher's completeness check and the reload parse the same text: parse it once.
    let memo: { text: string; parsed: ParsedNotebook } | null = null;
    const parse = (text: string) => (memo?.text === text ? memo.parsed : (memo = { text, parsed: parseText(text) }).parsed);
    notebook = new NotebookState(parse);
    let text = "";
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
        configError = `notebook.toml could not be read: ${(error as NodeJS.ErrnoException).code ?? "error"}`;
      }
    }
    if (closed) return;
    const needFetch = takeText(text);
    if (options.watch ?? true) {
      watcher = await watchNotebook({
        file,
        onText: onFileText,
        onError: (error) => {
          configError = `notebook.toml could not be read: ${(error as NodeJS.ErrnoException).code ?? "error"}; keeping the last good configuration`;
          emit({ type: "config-invalid", error: configError });
        },
        // Empty or unparsable content may be a file caught mid-write: it is read once more.
        isComplete: (t) => t.trim() !== "" && !parse(t).syntaxError,
        ...(watchOpts.settleMs !== undefined ? { settleMs: watchOpts.settleMs } : {}),
        ...(watchOpts.usePolling !== undefined ? { usePolling: watchOpts.usePolling } : {}),
        ...(watchOpts.interval !== undefined ? { interval: watchOpts.interval } : {}),
      });
      if (closed) return; // close() closes the watcher once open() has settled
      watcher.markHandled(text === "" ? null : text);
      await watcher.ready;
      if (closed) return;
      // A save between the first read and the watcher being ready would be lost otherwise.
      const now = await readFile(file, "utf8").catch(() => "");
      if (now !== text) {
        watcher.markHandled(now);
        if (takeText(now)) {
          await scheduleFetch(true);
          return;
        }
      }
    }
    if (needFetch) await scheduleFetch(true);
  }

  const plugin: SecretManagerPlugin = {
    open() {
      assertOpen();
      return (opening ??= open());
    },

    beforeCellRun(cell) {
      assertOpen();
      cellsStarted = true;
      inCell = true;
      patcher.sync(model);
      const overlay = notebook.cellEnv.get(cell.id);
      if (overlay) patcher.applyOverlay(overlay, patterns);
    },

    afterCellRun() {
      assertOpen();
      inCell = false;
      patcher.dropOverlay();
      if (reassert) patcher.reassert();
      patcher.sync(model);
    },

    async refresh() {
      await opened();
      return scheduleFetch(false);
    },

    rows: () => model.rows(),

    status(): PluginStatus {
      const config = notebook.secretManager;
      return {
        configured: config !== null,
        provider: config?.provider ?? null,
        fetchedAt,
        fetching: fetches.running,
        configError,
        fetchError,
        error: configError ?? fetchError,
      };
    },

    maskedEnv: () => model.maskedEnv(),

    async saveEnv(input) {
      await opened();
      const { manual, disk } = planEnvSave(input, model);
      const { text, written } = await writeEnvTable(file, disk, { sensitivePatterns: patterns, neverWrite: new Set(model.fetched?.values() ?? []) });
      if (closed) return;
      watcher?.markHandled(text);
      model.manual = manual;
      // The edit may have landed on content someone else changed meanwhile: take all of it.
      const outcome = notebook.apply(text);
      model.disk = notebook.env;
      remerge();
      emit({ type: "env-saved", written });
      if (outcome.secretManagerChanged) await scheduleFetch(true);
    },

    async saveSecretManagerConfig(config: SecretManagerConfig | null) {
      await opened();
      if (config !== null && (typeof config !== "object" || Array.isArray(config))) {
        throw new StrataSecretsError(ErrorCode.INVALID_ARGUMENT, "saveSecretManagerConfig: config must be an object or null");
      }
      const { text } = await writeSecretManagerTable(file, config);
      if (closed) return;
      watcher?.markHandled(text);
      if (takeText(text)) await scheduleFetch(true);
    },

    secretManagerConfig: () => (notebook.secretManager ? { ...notebook.secretManager } : null),

    maskOutput(text) {
      return mask(text);
    },

    createOutputMasker() {
      return createStreamMasker(currentMasker);
    },

    close() {
      return (closing ??= (async () => {
        closed = true;
        fetches.stop();
        lifetime.abort();
        // An open() still under way stops at its next step (its fetch was just aborted).
        await Promise.allSettled([opening]);
        await watcher?.close();
        await Promise.allSettled([...registry.values()].map((p) => p.close?.()));
        patcher.restoreAll();
        for (const [name, value] of scrubbed) env[name] = value;
      })());
    },

    [Symbol.asyncDispose]() {
      return plugin.close();
    },
  };
  return plugin;
}
