import { AsyncLocalStorage } from "node:async_hooks";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { OutputCapture, type CellOutput } from "./capture.js";
import { loadCells, type CellSource } from "./cells.js";
import { describeFailure, PluginHost, type KernelPlugin } from "./hooks.js";

export type { KernelPlugin };

export interface KernelOptions {
  notebookDir: string;
  plugins?: KernelPlugin[];
  /** Show cell output on the process's stdout/stderr (default true). */
  echo?: boolean;
  /** Awaited before each cell, before the plugins' hooks (the CLI syncs its masker here). */
  beforeCell?: (cell: CellSource) => Promise<void>;
  /** Awaited after each cell, once its output is saved (the CLI keeps what cells read here). */
  afterCell?: (cell: CellSource, result: CellResult) => Promise<void>;
  /**
   * Catch what cells leave behind (an unawaited rejection, a timer that throws) instead of
   * letting it end the process: reported, masked, as a late error of the cell that caused it.
   * Installs process-wide handlers: for a process that runs cells and nothing else.
   */
  catchStrayErrors?: boolean;
}

export interface CellResult extends CellOutput {
  id: string;
  ok: boolean;
  /** The error message (masked) when the cell threw. */
  error?: string;
  /** Errors the cell left behind while it ran (unawaited rejections, throwing timers), masked. */
  lateErrors?: string[];
  durationMs: number;
}

/** Each stream saved to .strata/console is cut at this many characters. */
export const CONSOLE_LIMIT = 10_000;

function safeName(id: string): string {
  return /^[A-Za-z0-9_.-]+$/.test(id) && id !== "." && id !== ".." ? id : encodeURIComponent(id).replace(/\./g, "%2E");
}

/** Which cell the code that runs now belongs to (timers and promises keep it). */
const cellContext = new AsyncLocalStorage<{ id: string; late: string[] | null }>();

/**
 * The reference kernel: runs a Strata notebook's JavaScript/TypeScript cells in this
 * process (so they share its process.env), each as an ES module (top-level await and
 * imports work), with the plugins' hooks around each cell and its output masked.
 * @example
 * const kernel = createKernel({ notebookDir, plugins: [plugin] });
 * const results = await kernel.runAll();
 */
export function createKernel(options: KernelOptions) {
  const host = new PluginHost(options.plugins ?? []);
  const capture = new OutputCapture(() => host.createMasker(), { echo: options.echo ?? true });
  const maskOnce = (text: string) => {
    const m = host.createMasker();
    return m.write(text) + m.flush();
  };
  if (options.catchStrayErrors) catchStrayErrors(capture, maskOnce);

  async function compile(cell: CellSource): Promise<string> {
    const source = await readFile(cell.path, "utf8");
    if (cell.language === "javascript") return source;
    // esbuild only for TypeScript cells, loaded on the first one.
    const { transform } = await import("esbuild");
    const { code } = await transform(source, { loader: "ts", format: "esm", target: "node20", sourcefile: basename(cell.path) });
    return code;
  }

  async function saveConsole(id: string, out: CellOutput): Promise<void> {
    const file = join(options.notebookDir, ".strata", "console", `${safeName(id)}.json`);
    if (out.stdout === "" && out.stderr === "") {
      await rm(file, { force: true });
      return;
    }
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, `${JSON.stringify({ stdout: out.stdout.slice(0, CONSOLE_LIMIT), stderr: out.stderr.slice(0, CONSOLE_LIMIT) }, null, 2)}\n`);
  }

  /** Compiles, runs the hooks around the cell's module, returns its (masked) error. */
  async function execute(cell: CellSource, context: { id: string; late: string[] | null }): Promise<string | undefined> {
    let module: string | null = null;
    try {
      const code = await compile(cell);
      await options.beforeCell?.(cell);
      // Beside the source, so relative imports and node_modules resolve as for the cell file.
      module = join(dirname(cell.path), `.${basename(cell.path)}.${randomBytes(4).toString("hex")}.strata.mjs`);
      await writeFile(module, code);
      // Every plugin's hook is called; a failing beforeCellRun means the cell does not run,
      // and afterCellRun is still owed to every plugin whose beforeCellRun was called.
      const { called, failures } = host.before({ id: cell.id });
      try {
        if (failures.length > 0) throw new Error(maskOnce(failures.map(describeFailure).join("; ")));
        const url = pathToFileURL(module).href;
        await cellContext.run(context, () => import(url));
      } finally {
        await rm(module, { force: true });
        module = null;
        const after = host.after({ id: cell.id }, called);
        if (after.length > 0) capture.record("stderr", `${maskOnce(after.map(describeFailure).join("\n"))}\n`);
      }
      return undefined;
    } catch (e) {
      const text = e instanceof Error ? (e.stack ?? e.message) : String(e);
      capture.record("stderr", `${maskOnce(text)}\n`);
      return maskOnce(e instanceof Error ? e.message : String(e));
    } finally {
      if (module) await rm(module, { force: true });
    }
  }

  async function runCell(cell: CellSource): Promise<CellResult> {
    const started = performance.now();
    capture.install();
    capture.begin();
    const context = { id: cell.id, late: [] as string[] | null };
    const error = await execute(cell, context);
    const late = context.late ?? [];
    context.late = null; // from now on the cell's stray errors are reported on their own
    const out = capture.end();
    await saveConsole(cell.id, out);
    const result: CellResult = { id: cell.id, ok: error === undefined, ...out, durationMs: performance.now() - started };
    if (error !== undefined) result.error = error;
    if (late.length > 0) result.lateErrors = late;
    await options.afterCell?.(cell, result);
    return result;
  }

  return {
    /** The notebook's cells in run order. */
    cells: async () => (await loadCells(options.notebookDir)).cells,
    runCell,
    /**
     * Runs every cell in order (or those `only` keeps); stops at the first failure unless `keepGoing`. Output
     * stays intercepted (and masked) after the run, for timers a cell left behind,
     * until `close()`.
     */
    async runAll(opts: { keepGoing?: boolean; onCell?: (cell: CellSource) => void; onWarning?: (warning: string) => void; only?: (cell: CellSource) => boolean } = {}): Promise<CellResult[]> {
      const results: CellResult[] = [];
      const { cells, warnings } = await loadCells(options.notebookDir);
      for (const w of warnings) opts.onWarning?.(w);
      for (const cell of cells) {
        if (opts.only && !opts.only(cell)) continue;
        opts.onCell?.(cell);
        const r = await runCell(cell);
        results.push(r);
        if (!r.ok && !opts.keepGoing) break;
      }
      return results;
    },
    /** Stops intercepting output (idempotent); flushes what the maskers held back. */
    close(): void {
      capture.uninstall();
    },
  };
}

export type Kernel = ReturnType<typeof createKernel>;

/**
 * Process-wide: an unhandled rejection or an uncaught exception is reported (masked) as a
 * late error of the cell it came from, and the process goes on. Node's own fatal-error
 * printer, which writes past every masker, never runs.
 */
function catchStrayErrors(capture: OutputCapture, mask: (text: string) => string): void {
  const report = (error: unknown) => {
    const context = cellContext.getStore();
    const text = mask(error instanceof Error ? (error.stack ?? error.message) : String(error));
    const from = context ? `cell "${context.id}"` : "outside any cell";
    capture.record("stderr", `[kernel] late error from ${from} (the kernel keeps running): ${text}\n`);
    context?.late?.push(mask(error instanceof Error ? error.message : String(error)));
  };
  process.on("uncaughtException", report);
  process.on("unhandledRejection", report);
}
