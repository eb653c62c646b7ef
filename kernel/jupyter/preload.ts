// Loaded into tslab's kernel process by the kernelspec (`node --import <this> tslab kernel`):
// creates the plugin for the notebook's directory and wraps tslab's executor, which has no
// pre-execute hook of its own. See `strata-secrets jupyter install`.
//
// `--import` is inherited by worker threads and by child processes a cell forks: there the
// preload does nothing. It acts only in the main thread of `tslab kernel`.
import { readFileSync, realpathSync } from "node:fs";
import Module from "node:module";
import { basename, dirname, join } from "node:path";
import { isMainThread } from "node:worker_threads";
import { createSecretManagerPlugin } from "../../plugin/plugin.js";
import { TSLAB_VERSION } from "./kernelspec.js";
import { wrapExecutor, type TslabExecutor } from "./wrap.js";

const EXECUTOR = /[\\/]tslab[\\/]dist[\\/]executor\.js$/;
const JUPYTER = /[\\/]tslab[\\/]dist[\\/]jupyter\.js$/;

/** Every string inside a Jupyter message's content, masked (display data carries text, HTML, JSON). */
function maskDeep(value: unknown, mask: (text: string) => string): unknown {
  if (typeof value === "string") return mask(value);
  if (Array.isArray(value)) return value.map((v) => maskDeep(v, mask));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskDeep(v, mask)]));
  return value;
}

type DisplayWriter = (data: unknown, update: boolean) => void;
type HandleExecute = (this: unknown, req: unknown, writeStream: unknown, writeDisplayData: DisplayWriter) => Promise<unknown>;

/** Whether this is tslab's kernel main: `node … <tslab>/bin/tslab kernel …`, main thread. */
export function inTslabKernel(argv: readonly string[] = process.argv): boolean {
  if (!isMainThread || argv[2] !== "kernel" || !argv[1]) return false;
  let script = argv[1];
  try {
    script = realpathSync(script);
  } catch {
    return false;
  }
  return basename(script) === "tslab" && basename(dirname(script)) === "bin";
}

/** "cells ran with values that have since changed: jupyter-3 (API_KEY), jupyter-5 (DB_URL)" */
function staleNotice(cells: readonly { id: string; keys: readonly string[] }[]): string {
  return `cells ran with values that have since changed: ${cells.map((c) => `${c.id} (${c.keys.join(", ")})`).join(", ")}; re-run them for the new values`;
}

function start(): void {
  const notebookDir = process.env["STRATA_NOTEBOOK_DIR"] || process.cwd();
  const timeout = Number(process.env["STRATA_FETCH_TIMEOUT_MS"]);
  // Created now, before any cell: the kernel's credentials leave process.env here.
  const plugin = createSecretManagerPlugin({
    notebookDir,
    ...(timeout > 0 ? { fetchTimeoutMs: timeout } : {}),
    onEvent: (e) => {
      if (e.type === "fetch-failed" || e.type === "config-invalid") process.stderr.write(`strata-secrets: ${e.error}\n`);
      // To the kernel's own log (fd 2, which Jupyter keeps out of cells), not a cell's output.
      if (e.type === "cells-stale") (process as unknown as { _rawDebug(s: string): void })._rawDebug(`strata-secrets: ${staleNotice(e.cells)}`);
    },
  });
  const ready = plugin.open();
  ready.catch((error: unknown) => process.stderr.write(`strata-secrets: could not open ${notebookDir}: ${String(error)}\n`));

  // For cells: status, rows and refresh (no values), since Jupyter has no Runtime panel.
  Object.defineProperty(globalThis, "strataSecrets", {
    value: Object.freeze({
      status: () => {
        const stale = plugin.staleCells();
        return { ...plugin.status(), staleCells: stale.length, ...(stale.length > 0 ? { staleNotice: staleNotice(stale) } : {}) };
      },
      rows: () => plugin.rows(),
      refresh: () => plugin.refresh(),
      /** Cells (by execution count: jupyter-N) that ran with a value that has since changed. */
      staleCells: () => plugin.staleCells(),
      cellReads: (id: string) => plugin.cellReads(id),
    }),
    enumerable: false,
  });

  let wrapped = 0;
  const patched = new WeakSet<object>();
  type Loader = (request: string, parent: unknown, isMain: boolean) => unknown;
  const M = Module as unknown as { _load: Loader; _resolveFilename: (request: string, parent: unknown, isMain: boolean) => string };
  const load = M._load;
  M._load = function (this: unknown, request: string, parent: unknown, isMain: boolean): unknown {
    const exports = load.call(this, request, parent, isMain) as { createExecutor?: (...args: unknown[]) => TslabExecutor; JupyterHandlerImpl?: { prototype: { handleExecute?: HandleExecute } } };
    if (!exports || typeof exports !== "object" || patched.has(exports) || !(request.endsWith("executor") || request.endsWith("jupyter"))) return exports;
    let file = "";
    try {
      file = M._resolveFilename(request, parent, isMain);
    } catch {
      return exports;
    }
    const handler = exports.JupyterHandlerImpl?.prototype;
    if (JUPYTER.test(file) && typeof handler?.handleExecute === "function") {
      // display(), display.html() … send display_data over tslab's own channel, not stdout.
      patched.add(exports);
      const handleExecute = handler.handleExecute;
      handler.handleExecute = function (req, writeStream, writeDisplayData) {
        return handleExecute.call(this, req, writeStream, (data: unknown, update: boolean) => writeDisplayData(maskDeep(data, (t) => plugin.maskOutput(t)), update));
      };
      return exports;
    }
    if (!EXECUTOR.test(file) || typeof exports.createExecutor !== "function") return exports;
    patched.add(exports);
    const version = packageVersion(join(dirname(dirname(file)), "package.json"));
    if (version !== TSLAB_VERSION) process.stderr.write(`strata-secrets: tslab ${version} at ${file}; this wrap was written for ${TSLAB_VERSION}\n`);
    const create = exports.createExecutor;
    exports.createExecutor = (...args: unknown[]) => {
      wrapped++;
      return wrapExecutor(create(...args), plugin, ready);
    };
    return exports;
  };

  // tslab creates its executor while starting; if that never went through the wrap, say so.
  setTimeout(() => {
    if (wrapped === 0) {
      process.stderr.write(
        `strata-secrets: WARNING: could not wrap tslab's executor (expected tslab ${TSLAB_VERSION}); ` +
          "cells run WITHOUT secrets and WITHOUT output masking. Pin tslab to that version.\n",
      );
    }
  }, 5_000).unref();

  process.once("exit", () => void plugin.close());
}

function packageVersion(file: string): string {
  try {
    return (JSON.parse(readFileSync(file, "utf8")) as { version: string }).version;
  } catch {
    return "unknown";
  }
}

if (inTslabKernel()) start();
