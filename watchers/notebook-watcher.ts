import { watch as fsWatch, type FSWatcher as NodeWatcher } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, dirname, resolve } from "node:path";
import type { FSWatcher } from "chokidar";

export interface NotebookWatcherOptions {
  /** The watched file (notebook.toml). */
  file: string;
  /** New content of the file, or null when it was deleted. Called once per distinct content. */
  onText: (text: string | null) => void | Promise<void>;
  /** False for content that may be mid-write (empty, truncated): it is read once more first. */
  isComplete: (text: string) => boolean;
  /** Delay of the trailing re-read after the last event of a burst (default 80 ms). */
  settleMs?: number;
  /** Delay of the re-read of incomplete content (default 50 ms). */
  retryMs?: number;
  usePolling?: boolean;
  interval?: number;
  onError?: (error: unknown) => void;
  /** Reads the file: its text, or null when it does not exist (default: UTF-8, lenient). */
  read?: (file: string) => Promise<string | null>;
}

export interface NotebookWatcher {
  /** Resolves when the watcher is ready to report changes. */
  ready: Promise<void>;
  /** Content the caller wrote itself: reading it back reports nothing. */
  markHandled(text: string | null): void;
  close(): Promise<void>;
}

/**
 * Watches one file in a way that survives in-place writes, temp-then-rename saves,
 * delete + re-create and `git checkout`: chokidar watches the directory (depth 0) and
 * only that file's events are kept. The first event of a burst is handled at once;
 * chokidar drops further `change` events for 50 ms without a trailing one, so the file
 * is read again `settleMs` after the last event, and acted on only if its content differs.
 */
export async function watchNotebook(options: NotebookWatcherOptions): Promise<NotebookWatcher> {
  const { watch } = await import("chokidar");
  const file = resolve(options.file);
  const dir = dirname(file);
  const name = basename(file);
  const settleMs = options.settleMs ?? 80;
  const retryMs = options.retryMs ?? 50;
  let lastDelivered: string | null | undefined;
  let lastIncomplete: string | null = null;
  let trailing: NodeJS.Timeout | null = null;
  let retry: NodeJS.Timeout | null = null;
  let chain: Promise<void> = Promise.resolve();
  let closed = false;

  const watcher: FSWatcher = watch(dir, {
    depth: 0,
    ignoreInitial: true,
    ignored: (path: string) => path !== dir && basename(path) !== name,
    usePolling: options.usePolling ?? false,
    interval: options.interval ?? 100,
    binaryInterval: options.interval ?? 300,
  });

  async function read(): Promise<string | null> {
    if (options.read) return options.read(file);
    try {
      return await readFile(file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw error;
    }
  }

  async function check(): Promise<void> {
    if (closed) return;
    const text = await read();
    if (closed || text === lastDelivered) return;
    if (text !== null && !options.isComplete(text) && text !== lastIncomplete) {
      lastIncomplete = text;
      if (retry) clearTimeout(retry);
      retry = setTimeout(() => {
        retry = null;
        schedule();
      }, retryMs);
      return;
    }
    lastIncomplete = null;
    lastDelivered = text;
    await options.onText(text);
  }

  function schedule(): void {
    chain = chain.then(check).catch((error: unknown) => options.onError?.(error));
  }

  function onEvent(path: string): void {
    if (closed || resolve(path) !== file) return;
    if (!trailing) schedule();
    else clearTimeout(trailing);
    trailing = setTimeout(() => {
      trailing = null;
      schedule();
    }, settleMs);
  }

  watcher.on("add", onEvent).on("change", onEvent).on("unlink", onEvent);
  // chokidar stats the file before it reports a change (~1 ms); a plain fs.watch on the
  // directory reports the same save first. Its duplicates are harmless: a read that finds
  // the content already delivered does nothing. chokidar stays for what fs.watch misses
  // (polling, a directory that is replaced).
  let fast: NodeWatcher | null = null;
  if (!(options.usePolling ?? false)) {
    try {
      fast = fsWatch(dir, { persistent: false }, (_event, changed) => {
        if (changed === name) onEvent(file);
      });
      fast.on("error", () => fast?.close());
    } catch {
      fast = null; // chokidar alone
    }
  }
  watcher.on("error", (error) => options.onError?.(error));
  const ready = new Promise<void>((res) => watcher.once("ready", () => res()));

  let closing: Promise<void> | null = null;
  return {
    ready,
    markHandled(text) {
      lastDelivered = text;
      lastIncomplete = null;
    },
    close() {
      return (closing ??= (async () => {
        closed = true;
        if (trailing) clearTimeout(trailing);
        if (retry) clearTimeout(retry);
        fast?.close();
        await watcher.close();
        await chain;
      })());
    },
  };
}
