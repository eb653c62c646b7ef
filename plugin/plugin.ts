import { readFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfigLibs, loadNotebookParser, peekProvider, sectionEntries, sectionFromInput, type NotebookParser, type ParsedNotebook } from "./config.js";
import { describeProviders } from "./describe.js";
import { EnvPatcher } from "./env-patcher.js";
import { ErrorCode, StrataSecretsError } from "./errors.js";
import { createFetcher } from "./fetcher.js";
import { eventSink, Lifecycle } from "./lifecycle.js";
import { MASK_SOURCE, Masking } from "./masking.js";
import { NotebookFile } from "./notebook-file.js";
import { resolveOptions } from "./options.js";
import { createRegistry, prepareProvider, type Registry } from "./registry.js";
import { planEnvSave } from "./save-env.js";
import { CellReads } from "./cell-reads.js";
import { SourceFollower } from "./follow.js";
import { Session } from "./session.js";
import type { SingleFlight } from "./single-flight.js";
import type { PluginEvent, SecretManagerConfig, SecretManagerPlugin, SecretManagerPluginOptions } from "./types.js";
import type { ResolvedOptions } from "./options.js";

/**
 * Creates the plugin for one notebook. Nothing is fetched until `open()`; the kernel's
 * credentials leave `env` now, before any cell can run, and the provider named in
 * notebook.toml may start what is slow now (its `prepare`: e.g. the AWS SDK import), so
 * that the first fetch after `open()` does not wait for it.
 * @example
 * const plugin = createSecretManagerPlugin({ notebookDir: "./my-notebook" });
 * await plugin.open();
 * plugin.beforeCellRun({ id: "cell-1" });  // process.env now holds the secrets
 * // ... run the cell ...
 * plugin.afterCellRun({ id: "cell-1" });
 * await plugin.close();
 */
export function createSecretManagerPlugin(input: SecretManagerPluginOptions): SecretManagerPlugin {
  // 1. Options: copied, defaulted and checked now; a bad one is a TypeError naming it.
  const options = resolveOptions(input);
  const life = new Lifecycle();

  // 2. Providers, each with a snapshot of the env names it declares; their credentials
  //    leave the env that cells see (close() puts them back).
  const registry = createRegistry(options.providers, options.credentials);
  const scrubbed = options.scrubCredentials ? scrub(options.env, registry.credentialNames) : new Map<string, string>();
  prepareProvider(registry, peekProvider(readNotebookHint(join(options.notebookDir, "notebook.toml"))));

  // 3. The session state, and what follows it: the env patcher and the output masker.
  let parse: NotebookParser = emptyParse; // zod, smol-toml and the providers' schemas load at open()
  const emit = eventSink<PluginEvent>(options.onEvent, (text) => masking.mask(text));
  const session = new Session({
    parse: (text) => parse(text),
    rules: { sensitivePatterns: options.sensitivePatterns, allowUnsafeNames: options.allowUnsafeNames },
    emit,
    onEnvChange: () => patcher.changed(),
    onSecretsChange: () => masking.prepare(),
    onRecompute: () => {
      const stale = reads.changed(session.model.entries);
      if (stale) emit({ type: "cells-stale", cells: stale });
    },
  });
  const reads = new CellReads();
  const patcher = new EnvPatcher(options.env, {
    takeChanges: () => session.model.takeChanges(),
    reassert: options.reassertAfterCell,
    sensitivePatterns: options.sensitivePatterns,
    refusal: (key, value) => session.model.refusal(key, value),
  });
  const masking = new Masking(session.model, registry.credentialValues);

  // 4. Fetching (one in flight) and notebook.toml (read, watched, written by saves).
  const fetches = createFetcher({ session, registry, timeoutMs: options.fetchTimeoutMs, notebookDir: options.notebookDir, signal: life.signal, mask: masking.mask, emit, onSettled: () => follower.settled() });
  // refresh_interval and a provider's own watch (files): fetch again without a Refresh.
  const follower = new SourceFollower({
    section: () => session.fetchTarget()?.section ?? null,
    failing: () => session.status(false).fetchError !== null,
    registry,
    notebookDir: options.notebookDir,
    trigger: (force) => fetches.trigger(force),
    onError: (error) => emit({ type: "fetch-failed", provider: session.fetchTarget()?.section.source ?? null, error: masking.mask(error instanceof Error ? error.message : String(error)) }),
  });
  const notebook = new NotebookFile({ options, session, parse: () => parse, closed: () => life.closed, fetch: (force) => fetches.trigger(force) });

  // 5. open(): the parser loads (zod, smol-toml, the schemas) while the provider prepares
  //    (since step 2); then read, watch and fetch.
  const open = async () => {
    parse = memoize(await loadNotebookParser(registry.providers, options.minRefreshIntervalMs));
    await notebook.open();
  };

  // 6. close(): stop fetching and watching, then put the env back as it was.
  const close = async () => {
    fetches.stop();
    masking.stop();
    await follower.stop();
    await notebook.close();
    await registry.close();
    patcher.restoreAll();
    for (const [name, value] of scrubbed) options.env[name] = value;
  };

  return pluginApi({ options, life, registry, session, patcher, masking, fetches, notebook, emit, open, close, reads });
}

interface Parts {
  options: ResolvedOptions;
  life: Lifecycle;
  registry: Registry;
  session: Session;
  patcher: EnvPatcher;
  masking: Masking;
  fetches: SingleFlight;
  notebook: NotebookFile;
  emit: (event: PluginEvent) => void;
  open: () => Promise<void>;
  close: () => Promise<void>;
  reads: CellReads;
}

/** The public methods, each a short delegation to the part that owns it. */
function pluginApi(parts: Parts): SecretManagerPlugin {
  const { life, registry, session, patcher, masking, fetches, notebook } = parts;
  const plugin: SecretManagerPlugin = {
    name: "strata-secrets",
    open: () => life.open(parts.open),
    beforeCellRun(cell) {
      life.assertOpen();
      patcher.beginCell(session.cellEnv(cell.id));
      parts.reads.begin(session.model.entries, cell.id);
    },
    afterCellRun(cell) {
      life.assertOpen();
      patcher.endCell();
      parts.reads.end(cell?.id, patcher.lastAccess);
    },
    async refresh() {
      await life.opened();
      return fetches.trigger(false);
    },
    rows: () => session.model.rows(),
    status: () => session.status(fetches.running),
    maskedEnv: () => session.model.maskedEnv(),
    envRevision: () => session.revision,
    async saveEnv(env, saveOptions = {}) {
      await life.opened();
      if (saveOptions.basedOn !== undefined && saveOptions.basedOn !== session.revision) {
        throw new StrataSecretsError(ErrorCode.CONFLICT, "notebook.toml's [env] changed since these values were shown; nothing was saved: look at the current values and save again");
      }
      const { manual, disk } = planEnvSave(env, session);
      // Belt and braces in the writer: no fetched secret is ever written, whatever the plan says.
      const { text, written } = await notebook.saveEnv(disk, session.model.secrets);
      if (life.closed) return;
      session.setManual(manual);
      parts.emit({ type: "env-saved", written });
      await notebook.take(text, "save-env");
    },
    async saveSecretManagerConfig(config) {
      await life.opened();
      if (config !== null && (typeof config !== "object" || Array.isArray(config))) {
        throw new StrataSecretsError(ErrorCode.INVALID_ARGUMENT, "saveSecretManagerConfig: config must be an object or null");
      }
      const { z } = await loadConfigLibs();
      const r = config === null ? { section: null } : sectionFromInput(z, registry.providers, config, parts.options.minRefreshIntervalMs);
      if ("error" in r) throw new StrataSecretsError(ErrorCode.INVALID_ARGUMENT, r.error);
      const entries = r.section ? sectionEntries(r.section, registry.providers.get(r.section.provider)!.configSchema(z)) : null;
      const { text } = await notebook.saveTable("secret_manager", entries);
      if (!life.closed) await notebook.take(text, "save-config");
    },
    secretManagerConfig(): SecretManagerConfig | null {
      const s = session.section;
      return s ? { provider: s.provider, ...s.settings, ...(s.refreshInterval !== undefined ? { refresh_interval: s.refreshInterval } : {}) } : null;
    },
    async describeProviders() {
      const { z } = await loadConfigLibs();
      return describeProviders(z, registry.providers);
    },
    maskOutput: (text) => masking.mask(text),
    cellReads: (id) => parts.reads.read(id, session.model.entries),
    staleCells: () => parts.reads.stale(session.model.entries),
    provenance: () => parts.reads.export(),
    restoreProvenance(data) {
      const taken = parts.reads.import(data);
      if (taken > 0) {
        const stale = parts.reads.changed(session.model.entries);
        if (stale) parts.emit({ type: "cells-stale", cells: stale });
      }
      return taken;
    },
    createOutputMasker: () => masking.stream(),
    close: () => life.close(parts.close),
    [Symbol.asyncDispose]: () => plugin.close(),
  };
  Object.defineProperty(plugin, MASK_SOURCE, { value: () => masking.source(), enumerable: false });
  return plugin;
}

const emptyParse: NotebookParser = () => ({ secretManager: null, env: new Map(), cells: [], errors: [], warnings: [], syntaxError: false });

/** The watcher's completeness check and the reload parse the same text: parse it once. */
function memoize(parse: NotebookParser): NotebookParser {
  let last: { text: string; parsed: ParsedNotebook } | null = null;
  return (text) => (last?.text === text ? last.parsed : (last = { text, parsed: parse(text) }).parsed);
}

/** Removes `names` from `env`; returns what was there, to put back at close(). */
function scrub(env: Record<string, string | undefined>, names: ReadonlySet<string>): Map<string, string> {
  const removed = new Map<string, string>();
  for (const name of names) {
    const value = env[name];
    if (value === undefined) continue;
    removed.set(name, value);
    delete env[name];
  }
  return removed;
}

/** The notebook's text for a hint (which provider to start early), or "" when unreadable. */
function readNotebookHint(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}
