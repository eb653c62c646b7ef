// The kernel side of `run`, `watch` and `serve`: the plugin, the cells, the panel. Runs in the
// process the supervisor started; its stdout and stderr are masked again by the supervisor.
import { createSecretManagerPlugin } from "../../plugin/plugin.js";
import type { PluginEvent, SecretManagerPlugin } from "../../plugin/types.js";
import { CliError, EXIT } from "../cli/args.js";
import { describeEvent, stamped } from "../cli/events.js";
import { secretsMissing, summary } from "../cli/summary.js";
import { formatRows, formatStatus, styleFor } from "../format.js";
import { createKernel, type Kernel } from "../kernel.js";
import { loadProvenance, saveProvenance } from "../provenance.js";
import type { Panel } from "../panel/server.js";
import { MaskSync } from "./mask-sync.js";
import type { KernelRequest, RunnerMessage } from "./protocol.js";

export interface RunnerContext {
  send: (message: RunnerMessage) => void;
  /** Resolves when the supervisor asks to stop (Ctrl-C, SIGTERM). */
  stopped: Promise<void>;
  /** Set once the plugin exists: acknowledgements from the supervisor go there. */
  onMasks: (sync: MaskSync) => void;
}

const out = (text: string) => void process.stdout.write(`${text}\n`);
const warn = (w: string) => void process.stderr.write(`strata-secrets: warning: notebook.toml: ${w}\n`);
const warnFile = (w: string) => void process.stderr.write(`strata-secrets: warning: ${w}\n`);

/** The plugin and kernel every command uses: credentials from the supervisor, masks synced. */
function open(request: KernelRequest, ctx: RunnerContext, extra: { watch: boolean; timeoutMs?: number; echo?: boolean; onEvent?: (e: PluginEvent) => void }) {
  let masks: MaskSync | null = null;
  const plugin: SecretManagerPlugin = createSecretManagerPlugin({
    notebookDir: request.dir,
    // Settings (INFISICAL_HOST, …) stay in this process's environment; credentials came over IPC.
    credentials: { ...process.env, ...request.credentials },
    watch: extra.watch,
    ...(extra.timeoutMs !== undefined ? { fetchTimeoutMs: extra.timeoutMs } : {}),
    onEvent: (e) => {
      // New values reach the supervisor's masker as soon as they are known.
      if (e.type === "secrets-fetched" || e.type === "env-saved" || e.type === "config-reloaded") void masks?.sync();
      extra.onEvent?.(e);
    },
  });
  masks = new MaskSync(plugin, ctx.send);
  ctx.onMasks(masks);
  const sync = masks;
  const kernel = createKernel({
    notebookDir: request.dir,
    plugins: [plugin],
    echo: extra.echo ?? true,
    beforeCell: () => sync.sync(),
    // Which keys (and manager versions) each cell read, for the next session.
    afterCell: () => saveProvenance(request.dir, plugin).catch((error: Error) => warnFile(`cannot write .strata/provenance.json: ${error.message}`)),
    catchStrayErrors: true,
  });
  /** open(), then what the last session's cells read (cells that ran with values since rotated are stale at once). */
  const start = async () => {
    await plugin.open();
    await loadProvenance(request.dir, plugin, warnFile);
  };
  return { plugin, kernel, masks: sync, start };
}

/** `run`: every cell once, the rows, the status and the summary; the exit code. */
export async function runKernel(request: Extract<KernelRequest, { command: "run" }>, ctx: RunnerContext): Promise<number> {
  const style = styleFor({ isTTY: request.color });
  const { plugin, kernel, masks, start } = open(request, ctx, { watch: false, timeoutMs: request.timeoutMs, echo: !request.json });
  await start();
  await masks.sync();
  const results = await kernel.runAll({
    keepGoing: request.keepGoing,
    onWarning: warn,
    onCell: (cell) => void (request.json ? null : out(style.bold(`── ${cell.id} (${cell.language}) ──`))),
  });
  const rows = plugin.rows();
  const status = plugin.status();
  if (request.json) {
    out(JSON.stringify({ cells: results.map(({ durationMs, ...r }) => ({ ...r, durationMs: Math.round(durationMs) })), rows, status, summary: summary(results, status) }, null, 2));
  } else {
    for (const r of results.filter((x) => !x.ok)) out(style.red(`cell ${r.id} failed: ${r.error}`));
    out(`\n${style.bold("Env")}\n${formatRows(rows, style)}\n\n${formatStatus(status, style)}\n\n${summary(results, status)}`);
  }
  if (secretsMissing(status)) return EXIT.secrets;
  return results.every((r) => r.ok) ? EXIT.ok : EXIT.failed;
}

/** `watch`: one line per reload/fetch until stopped; `--run` re-runs the cells. */
export async function watchKernel(request: Extract<KernelRequest, { command: "watch" }>, ctx: RunnerContext): Promise<number> {
  let kernel: Kernel | null = null;
  let running = Promise.resolve();
  const warned = new Set<string>();
  const rerun = (only?: ReadonlySet<string>) => {
    running = running.then(async () => {
      const results = await kernel!.runAll({ onWarning: (w) => void (warned.has(w) ? null : (warned.add(w), warn(w))), ...(only ? { only: (c: { id: string }) => only.has(c.id) } : {}) });
      out(`ran ${results.length} ${only ? "stale " : ""}cell(s)${only ? ` (${results.map((r) => r.id).join(", ")})` : ""}: ${results.every((r) => r.ok) ? "ok" : "a cell failed"}`);
    });
  };
  const parts = open(request, ctx, {
    watch: true,
    onEvent: (e) => {
      const line = describeEvent(e);
      if (line) out(stamped(line));
      if (!request.rerun || !kernel) return;
      // --rerun-stale: only the cells that ran with a value that has since changed, in notebook order.
      if (request.rerunStale) {
        if (e.type === "cells-stale" && e.cells.length > 0) rerun(new Set(e.cells.map((c) => c.id)));
      } else if (e.type === "secrets-fetched" || (e.type === "config-reloaded" && !e.secretManagerChanged)) rerun();
    },
  });
  await parts.start();
  kernel = parts.kernel;
  if (request.rerun) rerun();
  out(`watching ${request.dir}/notebook.toml (Ctrl-C to stop)`);
  await ctx.stopped;
  await running;
  await parts.plugin.close();
  out("closed");
  return EXIT.ok;
}

/** `serve`: the Runtime panel until stopped. */
export async function serveKernel(request: Extract<KernelRequest, { command: "serve" }>, ctx: RunnerContext): Promise<number> {
  const { startPanel } = await import("../panel/server.js");
  let panel: Panel | null = null;
  const { plugin, kernel, start } = open(request, ctx, {
    watch: true,
    onEvent: (e) => {
      const line = describeEvent(e);
      if (line) out(stamped(line));
      panel?.notify();
    },
  });
  try {
    await start();
    panel = await startPanel({ plugin, kernel, ...(request.port !== undefined ? { port: request.port } : {}) }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") throw new CliError(`cannot serve the Runtime panel: 127.0.0.1:${request.port} is already in use (EADDRINUSE); pick another --port`);
      if (error.code === "EACCES") throw new CliError(`cannot serve the Runtime panel on port ${request.port}: permission denied (EACCES)`);
      throw error;
    });
    out(`Runtime panel: ${panel.url}\n(the token in this URL grants access to the panel; Ctrl-C to stop)`);
    await ctx.stopped;
  } finally {
    await panel?.close();
    await plugin.close();
  }
  out("closed");
  return EXIT.ok;
}
