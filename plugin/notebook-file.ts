import { join } from "node:path";
import { readText, removeStaleTemps, TomlEditError, writeEnvTable, writeTable, type TomlScalar } from "../redaction/persist.js";
import { watchNotebook, type NotebookWatcher } from "../watchers/notebook-watcher.js";
import type { NotebookParser } from "./config.js";
import { ErrorCode, StrataSecretsError } from "./errors.js";
import type { ResolvedOptions } from "./options.js";
import type { Session, TextOrigin } from "./session.js";

export interface NotebookFileDeps {
  options: ResolvedOptions;
  session: Session;
  /** The notebook parser in force (loaded by open()). */
  parse: () => NotebookParser;
  closed: () => boolean;
  /** Fetch now; `force`: a config change, which queues one more fetch after one in flight. */
  fetch: (force: boolean) => Promise<void>;
}

/**
 * notebook.toml on disk: read at open(), watched, and written by the Runtime panel's saves.
 * Every text that comes from it enters the session through `Session.ingest`.
 */
export class NotebookFile {
  readonly path: string;
  readonly #deps: NotebookFileDeps;
  #watcher: NotebookWatcher | null = null;
  /** The plugin's own writes, one at a time. */
  #writes: Promise<unknown> = Promise.resolve();
  /** The watcher learns our text before the rename, so it never reports our own write. */
  readonly #hooks = { beforeRename: (text: string) => this.#watcher?.markHandled(text) };

  constructor(deps: NotebookFileDeps) {
    this.#deps = deps;
    this.path = join(deps.options.notebookDir, "notebook.toml");
  }

  /** Reads the file (missing: no configuration), starts watching, fetches if configured. */
  async open(): Promise<void> {
    const { session, closed } = this.#deps;
    await removeStaleTemps(this.path);
    const first = await this.#read();
    if (closed()) return;
    const text = typeof first === "string" ? first : "";
    let needFetch = false;
    if (typeof first === "string") needFetch = session.ingest(text, "open");
    else session.readFailed(errorCode(first));
    await this.#watch(text);
    if (closed()) return;
    // A save between the first read and the watcher being ready would be lost otherwise.
    const now = this.#watcher ? ((await this.#read().catch(() => text)) as string) : text;
    if (now !== text) {
      this.#watcher?.markHandled(now);
      if (session.ingest(now, "watch")) return this.#deps.fetch(true);
    }
    if (needFetch) await this.#deps.fetch(true);
  }

  /** Writes `[env]` (only that table changes); returns the file's text and whether it changed. */
  saveEnv(disk: ReadonlyMap<string, string>, neverWrite: ReadonlySet<string>): Promise<{ text: string; written: boolean }> {
    return this.#write(() => writeEnvTable(this.path, disk, { sensitivePatterns: this.#deps.options.sensitivePatterns, neverWrite }, this.#hooks));
  }

  /** Writes `[secret_manager]` (null removes it). */
  saveTable(name: string, entries: [string, TomlScalar][] | null): Promise<{ text: string; written: boolean }> {
    return this.#write(() => writeTable(this.path, name, entries, this.#hooks));
  }

  /** Text the plugin wrote itself then enters the session (the watcher will not report it). */
  async take(text: string, origin: TextOrigin): Promise<void> {
    this.#watcher?.markHandled(text);
    if (!this.#deps.closed() && this.#deps.session.ingest(text, origin)) await this.#deps.fetch(true);
  }

  async close(): Promise<void> {
    await this.#watcher?.close();
  }

  async #watch(first: string): Promise<void> {
    const { options, session, closed } = this.#deps;
    if (!options.watch) return;
    this.#watcher = await watchNotebook({
      file: this.path,
      onText: async (text) => {
        if (!closed() && session.ingest(text, "watch")) await this.#deps.fetch(true);
      },
      onError: (error) => session.readFailed(errorCode(error)),
      read: async (file) => readText(file),
      // Empty or unparsable content may be a file caught mid-write: it is read once more.
      isComplete: (t) => t.trim() !== "" && !this.#deps.parse()(t).syntaxError,
      ...options.watch,
    });
    if (closed()) return; // close() closes the watcher once open() has settled
    this.#watcher.markHandled(first === "" ? null : first);
    await this.#watcher.ready;
  }

  /** The file's text (missing: ""), or the error that kept it from being read. */
  async #read(): Promise<string | Error> {
    try {
      return (await readText(this.path)) ?? "";
    } catch (error) {
      return error as Error;
    }
  }

  async #write(edit: () => Promise<{ text: string; written: boolean }>): Promise<{ text: string; written: boolean }> {
    const run = this.#writes.then(async () => {
      try {
        return await edit();
      } catch (error) {
        if (!(error instanceof TomlEditError)) throw error;
        const code = error.reason === "invalid-toml" || error.reason === "invalid-utf8" ? ErrorCode.INVALID_CONFIG : ErrorCode.WRITE_FAILED;
        throw new StrataSecretsError(code, error.message, { cause: error });
      }
    });
    this.#writes = run.catch(() => undefined);
    return run;
  }
}

function errorCode(error: unknown): string {
  if (error instanceof TomlEditError) return error.message;
  return (error as NodeJS.ErrnoException | null)?.code ?? "error";
}
