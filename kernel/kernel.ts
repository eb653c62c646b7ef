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
}

export interface CellResult extends CellOutput {
  id: string;
  ok: boolean;
  /** The error message (masked) when the cell threw. */
  error?: string;
  durationMs: number;
}

/** Each stream saved to .strata/console is cut at this many characters. */
export const CONSOLE_LIMIT = 10_000;

function safeName(id: string): string {
  return /^[A-Za-z0-9_.-]+$/.test(id) && id !== "." && id !== ".." ? id : encodeURIComponent(id).replace(/\./g, "%2E");
}

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

  async function compile(cell: CellSource): Promise<string> {
    const source = await readFile(cell.path, "utf8");
    if (cell.language === "javascript") return source;
    // esbuild only for TypeScript cells, loaded on the first one.
    const { transform } = await import("esbuild");
    const { code } = await transform(source, { loader: cell.language === "typescript" ? "ts" : "js", format: "esm", target: "node20", sourcefile: basename(cell.path) });
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

  async function runCell(cell: CellSource): Promise<CellResult> {
    const started = performance.now();
    let error: string | undefined;
    let module: string | null = null;
    capture.install();
    capture.begin();
    try {
      const code = await compile(cell);
      // Beside the source, so relative imports and node_modules resolve as for the cell file.
      module = join(dirname(cell.path), `.${basename(cell.path)}.${randomBytes(4).toString("hex")}.strata.mjs`);
      await writeFile(module, code);
      // Every plugin's hook is called; a failing beforeCellRun means the cell does not run,
      // and afterCellRun is still owed to every plugin whose beforeCellRun was called.
      const { called, failures } = host.before({ id: cell.id });
      try {
        if (failures.length > 0) throw new Error(maskOnce(failures.map(describeFailure).join("; ")));
        await import(pathToFileURL(module).href);
      } finally {
        await rm(module, { force: true });
        module = null;
        const after = host.after({ id: cell.id }, called);
        if (after.length > 0) capture.record("stderr", `${maskOnce(after.map(describeFailure).join("\n"))}\n`);
      }
    } catch (e) {
      const text = e instanceof Error ? (e.stack ?? e.message) : String(e);
      error = maskOnce(e instanceof Error ? e.message : String(e));
      capture.record("stderr", `${maskOnce(text)}\n`);
    } finally {
      if (module) await rm(module, { force: true });
    }
    const out = capture.end();
    await saveConsole(cell.id, out);
    const result: CellResult = { id: cell.id, ok: error === undefined, ...out, durationMs: performance.now() - started };
    if (error !== undefined) result.error = error;
    return result;
  }

  return {
    /** The notebook's cells in run order. */
    cells: async () => (await loadCells(options.notebookDir)).cells,
    runCell,
    /**
     * Runs every cell in order; stops at the first failure unless `keepGoing`. Output
     * stays intercepted (and masked) after the run, for timers a cell left behind,
     * until `close()`.
     */
    async runAll(opts: { keepGoing?: boolean; onCell?: (cell: CellSource) => void; onWarning?: (warning: string) => void } = {}): Promise<CellResult[]> {
      const results: CellResult[] = [];
      const { cells, warnings } = await loadCells(options.notebookDir);
      for (const w of warnings) opts.onWarning?.(w);
      for (const cell of cells) {
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
