import type { OutputMasker, SecretManagerPlugin } from "../../plugin/types.js";
import { textWrite, type Write } from "../text-write.js";

/** The part of tslab's executor (dist/executor.js) that is wrapped. */
export interface TslabExecutor {
  execute(src: string): Promise<boolean>;
  [key: string]: unknown;
}

type StreamName = "stdout" | "stderr";

/**
 * Routes process.stdout/stderr (which tslab has just pointed at the cell's iopub stream)
 * through the plugin's streaming maskers. After the cell, late output (timers) is still
 * masked, chunk by chunk.
 */
function maskStreams(plugin: SecretManagerPlugin): { flush(): void } {
  const targets = { stdout: process.stdout.write, stderr: process.stderr.write } as Record<StreamName, Write>;
  const maskers: Record<StreamName, OutputMasker | null> = { stdout: plugin.createOutputMasker(), stderr: plugin.createOutputMasker() };
  const rests = {} as Record<StreamName, () => string>;
  for (const name of ["stdout", "stderr"] as const) {
    const { write, rest } = textWrite((text) => {
      const m = maskers[name];
      const safe = m ? m.write(text) : plugin.maskOutput(text);
      if (safe) targets[name].call(process[name], safe);
    });
    process[name].write = write;
    rests[name] = rest;
  }
  return {
    flush() {
      for (const name of ["stdout", "stderr"] as const) {
        const m = maskers[name];
        maskers[name] = null;
        const rest = m ? m.write(rests[name]()) + m.flush() : "";
        if (rest) targets[name].call(process[name], rest);
      }
    },
  };
}

/**
 * Wraps tslab's executor so that every cell runs between `beforeCellRun` and
 * `afterCellRun`, with its output masked. A failing hook fails that cell with a clear
 * message on stderr; the kernel keeps running.
 */
export function wrapExecutor(executor: TslabExecutor, plugin: SecretManagerPlugin, ready: Promise<void>): TslabExecutor {
  const execute = executor.execute.bind(executor);
  let count = 0;
  executor.execute = async (src: string): Promise<boolean> => {
    const cell = { id: `jupyter-${++count}` };
    const streams = maskStreams(plugin);
    try {
      await ready;
      plugin.beforeCellRun(cell);
    } catch (error) {
      process.stderr.write(`strata-secrets: the secrets could not be applied to this cell (${error instanceof Error ? error.message : String(error)}); it was not run.\n`);
      streams.flush();
      return false;
    }
    try {
      return await execute(src);
    } finally {
      streams.flush();
      try {
        plugin.afterCellRun(cell);
      } catch (error) {
        process.stderr.write(`strata-secrets: afterCellRun failed: ${error instanceof Error ? error.message : String(error)}\n`);
      }
    }
  };
  return executor;
}
