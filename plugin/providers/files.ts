// Secrets from files kept by an agent or an operator (Kubernetes Secret volumes, the Secrets
// Store CSI driver, Vault Agent / Infisical Agent templates, Docker secrets): the kernel
// needs no manager credential at all. Watched; a rotation lands between cells.
import { readdir, readFile, realpath, stat } from "node:fs/promises";
import { basename, dirname, extname, join, resolve, sep } from "node:path";
import type { FetchResult, ProviderConfig, SecretProvider } from "../types.js";
import { countOption, normalizeValues, now } from "./http-common.js";

export interface FilesProviderOptions {
  /** Largest file read, bytes (default 1 MiB): a larger one is refused on its row. */
  maxFileBytes?: number;
  /** Most entries in a directory (default 1,000): more is an error. */
  maxFiles?: number;
}

interface FilesConfig {
  path: string;
  format?: "dotenv" | "json";
}

/** What a variable name may be (Kubernetes also allows `.` and `-` in Secret keys: refused). */
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const STABLE_TRIES = 5;
/** Events closer than this are one burst (a swap is several renames and unlinks). */
const BURST_MS = 15;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A file's bytes as a value: strict UTF-8, one trailing line break dropped (see README). */
function valueOf(bytes: Buffer): string | null {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return null;
  }
  return text.endsWith("\r\n") ? text.slice(0, -2) : text.endsWith("\n") ? text.slice(0, -1) : text;
}

class Unstable extends Error {}

type Read = { secrets: Record<string, string>; refused: Record<string, string> };

/**
 * Reads of Kubernetes snapshot directories, by their real path. The atomic writer never
 * changes a timestamped directory once `..data` points at it, so every plugin in this process
 * that sees the same snapshot shares one read. One entry per volume (the newest).
 */
const snapshots = new Map<string, { snapshot: string; read: Promise<Read> }>();

/** One chokidar watcher per target in this process, shared by every plugin that follows it. */
const watchers = new Map<string, { listeners: Set<() => void>; ready: boolean; close: Promise<(() => Promise<void>) | null> }>();

/**
 * The `files` provider. `[secret_manager]`: `path` (a directory: each regular file is one
 * variable named by the file; or one dotenv / JSON file), `format` for a file ("dotenv",
 * "json"; default by extension). Relative paths resolve against the notebook directory.
 */
export function createFilesProvider(options: FilesProviderOptions = {}): SecretProvider {
  const maxFileBytes = countOption("createFilesProvider", "maxFileBytes", options.maxFileBytes, 1024 * 1024);
  const maxFiles = countOption("createFilesProvider", "maxFiles", options.maxFiles, 1000);

  async function readDirectory(dir: string): Promise<Read> {
    // The Kubernetes atomic writer: keys are symlinks through `..data` to a timestamped
    // directory, swapped in one rename. Reading that directory reads one snapshot.
    const snapshot = await realpath(join(dir, "..data")).catch(() => null);
    if (snapshot) {
      const key = `${dir}|${maxFileBytes}|${maxFiles}`;
      const cached = snapshots.get(key);
      if (cached?.snapshot === snapshot) return copy(await cached.read);
      const read = readEntries(dir, snapshot);
      snapshots.set(key, { snapshot, read });
      read.catch(() => {
        if (snapshots.get(key)?.read === read) snapshots.delete(key);
      });
      return copy(await read);
    }
    return readEntries(dir, null);
  }

  async function readEntries(dir: string, snapshot: string | null): Promise<Read> {
    const base = snapshot ?? dir;
    const before = snapshot ?? (await fingerprint(dir));
    const entries = (await readdir(base, { withFileTypes: true })).filter((e) => !e.name.startsWith("."));
    if (entries.length > maxFiles) throw new Error(`Files read failed: ${dir} holds ${entries.length} entries, more than the ${maxFiles} allowed`);
    const secrets: Record<string, string> = {};
    const refused: Record<string, string> = {};
    for (const entry of entries) {
      const name = entry.name;
      if (!NAME.test(name)) {
        refused[name] = "the file name is not a valid environment variable name (letters, digits and _, not starting with a digit)";
        continue;
      }
      const path = join(base, name);
      const info = await stat(path).catch((e: NodeJS.ErrnoException) => e);
      if (info instanceof Error) {
        if (info.code === "ENOENT") throw new Unstable();
        refused[name] = `cannot be read (${info.code ?? "error"})`;
        continue;
      }
      if (info.isDirectory()) {
        refused[name] = "is a directory, not a file";
        continue;
      }
      if (!info.isFile()) {
        refused[name] = "is not a regular file";
        continue;
      }
      if (info.size > maxFileBytes) {
        refused[name] = `the file is larger than ${maxFileBytes} bytes`;
        continue;
      }
      const bytes = await readFile(path).catch((e: NodeJS.ErrnoException) => e);
      if (bytes instanceof Error) {
        if (bytes.code === "ENOENT") throw new Unstable();
        refused[name] = `cannot be read (${bytes.code ?? "error"})`;
        continue;
      }
      const value = valueOf(bytes);
      if (value === null) refused[name] = "the file is not UTF-8 text";
      else secrets[name] = value;
    }
    // A swap (or a write) during the read: read again, never mix old and new files.
    const after = snapshot ? await realpath(join(dir, "..data")).catch(() => null) : await fingerprint(dir);
    if (after !== before) throw new Unstable();
    return { secrets, refused };
  }

  async function readOne(file: string, format: "dotenv" | "json", size: number): Promise<{ secrets: Record<string, string>; refused: Record<string, string> }> {
    if (size > maxFileBytes) throw new Error(`Files read failed: ${file} is larger than ${maxFileBytes} bytes`);
    const text = valueOf(await readFile(file));
    if (text === null) throw new Error(`Files read failed: ${file} is not UTF-8 text`);
    let values: Record<string, unknown>;
    if (format === "json") {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        throw new Error(`Files read failed: ${file} is not valid JSON (${(error as Error).message.replace(/\s*in JSON at.*$/, "")})`);
      }
      if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error(`Files read failed: ${file} must hold a JSON object of names to values`);
      values = parsed as Record<string, unknown>;
    } else {
      const { parse } = await import("dotenv");
      values = parse(text);
    }
    const { secrets, refused } = normalizeValues(values, "The file");
    for (const name of Object.keys(secrets)) {
      if (!NAME.test(name)) {
        refused[name] = "not a valid environment variable name";
        delete secrets[name];
      }
    }
    return { secrets, refused };
  }

  return {
    name: "files",
    credentialNames: [],
    configSchema: (z) =>
      z.strictObject({
        path: z.string().meta({ title: "Path", description: "a directory (one file per variable) or a dotenv/JSON file; relative to the notebook", examples: ["/var/run/secrets/notebook", "/run/secrets", "secrets.env"] }),
        format: z.enum(["dotenv", "json"]).meta({ title: "File format", description: "for a single file; default by extension (.json: json, else dotenv)" }).optional(),
      }),
    async fetch(input: ProviderConfig, ctx): Promise<FetchResult> {
      const config = input as unknown as FilesConfig;
      const target = resolve(ctx.notebookDir, config.path);
      const fail = (error: string): FetchResult => ({ secrets: {}, fetchedAt: now(), error });
      for (let attempt = 1; ; attempt++) {
        if (ctx.signal.aborted) return fail("The fetch was cancelled.");
        try {
          const info = await stat(target);
          const read = info.isDirectory() ? await readDirectory(target) : await readOne(target, config.format ?? (extname(target) === ".json" ? "json" : "dotenv"), info.size);
          const result: FetchResult = { secrets: read.secrets, fetchedAt: now(), error: null };
          if (Object.keys(read.refused).length > 0) result.refused = read.refused;
          return result;
        } catch (error) {
          if (error instanceof Unstable) {
            if (attempt < STABLE_TRIES) continue;
            return fail(`Files read failed: ${target} kept changing while it was read; it will be read again at its next change`);
          }
          const e = error as NodeJS.ErrnoException;
          if (e.code === "ENOENT") return fail(`Files read failed: ${target} does not exist (ENOENT); it is read as soon as it appears`);
          if (e.code === "EACCES" || e.code === "EPERM") return fail(`Files read failed: permission denied on ${target} (${e.code})`);
          return fail(e.message.startsWith("Files ") ? e.message : `Files read failed: ${e.message}`);
        }
      }
    },
    watch(input, ctx, changed) {
      const config = input as unknown as FilesConfig;
      const target = resolve(ctx.notebookDir, config.path);
      let shared = watchers.get(target);
      if (!shared) {
        const listeners = new Set<() => void>();
        const notify = () => {
          for (const l of listeners) l();
        };
        const parent = dirname(target);
        const name = basename(target);
        const close = import("chokidar").then(({ watch }) => {
          if (listeners.size === 0) return null;
          // The parent at depth 1: the target appearing or going, and (a directory) its
          // entries, `..data` swaps included. Symlinks are not followed (the swap is the event).
          const w = watch(parent, {
            depth: 1,
            ignoreInitial: true,
            followSymlinks: false,
            ignored: (p: string) => p !== parent && p !== target && !p.startsWith(target + sep) && basename(p) !== name,
          });
          // Events of one save or swap arrive in a burst: one notification per burst.
          let pending: NodeJS.Timeout | null = null;
          w.on("all", () => {
            if (pending) return;
            pending = setTimeout(() => {
              pending = null;
              notify();
            }, BURST_MS);
          });
          w.on("error", () => undefined);
          // What changed between the fetch that brought this config into force and now.
          w.once("ready", () => {
            entry.ready = true;
            notify();
          });
          return async () => {
            if (pending) clearTimeout(pending);
            await w.close();
          };
        });
        const entry: { listeners: Set<() => void>; ready: boolean; close: typeof close } = { listeners, ready: false, close };
        shared = entry;
        watchers.set(target, shared);
      }
      const entry = shared;
      const listener = () => changed();
      entry.listeners.add(listener);
      // Joining a watcher that is already live: read once for what changed since the fetch.
      if (entry.ready) queueMicrotask(listener);
      return {
        async close() {
          entry.listeners.delete(listener);
          if (entry.listeners.size > 0 || watchers.get(target) !== entry) return;
          watchers.delete(target);
          await (await entry.close)?.();
        },
      };
    },
  };
}

function copy(read: Read): Read {
  return { secrets: { ...read.secrets }, refused: { ...read.refused } };
}

/** Names, sizes and modification times of a plain directory's entries: equal means unchanged. */
async function fingerprint(dir: string): Promise<string> {
  const names = (await readdir(dir)).sort();
  const parts: string[] = [];
  for (const n of names) {
    const s = await stat(join(dir, n)).catch(() => null);
    parts.push(`${n}:${s?.size ?? -1}:${s?.mtimeMs ?? -1}:${s?.ino ?? -1}`);
  }
  return parts.join("|");
}
