#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { access, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createSecretManagerPlugin } from "../plugin/plugin.js";
import type { PluginEvent } from "../plugin/types.js";
import { startDevServer } from "./dev-server.js";
import { formatRows, formatStatus, styleFor } from "./format.js";
import { createKernel } from "./kernel.js";
import { packageRoot } from "./paths.js";

const HELP: Record<string, string> = {
  main: `strata-secrets — secrets from your secret manager in a notebook kernel's env, in memory only.

Usage:
  strata-secrets run <dir> [--json] [--keep-going] [--timeout <ms>]
  strata-secrets watch <dir> [--run]
  strata-secrets serve <dir> [--port <n>]
  strata-secrets dev-server [--port <n>] [--secrets <file>]
  strata-secrets jupyter install|uninstall [--name <name>] [--js] [--prefix <dir>]
  strata-secrets --help | --version

Credentials come from the shell: INFISICAL_CLIENT_ID + INFISICAL_CLIENT_SECRET (or
INFISICAL_TOKEN), INFISICAL_HOST for a self-hosted or local server.`,
  run: `strata-secrets run <dir> — open the notebook in <dir>, fetch its secrets, run every cell once,
then print the env rows and the secret-manager status.

Options:
  --json          print one JSON object (cells with masked output, rows, status) instead
  --keep-going    run the remaining cells after a failing one
  --timeout <ms>  deadline of the fetch (default 20000)
Exit code: 0 when every cell succeeded, 1 when a cell failed, 2 on a usage error.`,
  watch: `strata-secrets watch <dir> — open the notebook and stay open, printing one line per reload,
fetch (key names only) and error. Ctrl-C closes cleanly.

Options:
  --run           run the cells again after each change that succeeded`,
  serve: `strata-secrets serve <dir> — open the notebook and serve the Runtime panel (env rows with
source badges, the secret-manager form, Refresh, Run all) on 127.0.0.1. Prints the URL with
its access token; keep it private.

Options:
  --port <n>      port (default: a free one)`,
  jupyter: `strata-secrets jupyter install [--name strata-ts] [--js] [--prefix <dir>]
strata-secrets jupyter uninstall [--name strata-ts] [--prefix <dir>]

Installs a Jupyter kernelspec that runs tslab (TypeScript, or JavaScript with --js) with
strata-secrets loaded: each cell gets the notebook's secrets in process.env and its output
masked. notebook.toml is read from the notebook's folder (the kernel's working directory)
or STRATA_NOTEBOOK_DIR. Without --prefix the kernelspec goes to the user's Jupyter data
directory (~/.local/share/jupyter/kernels).`,
  "dev-server": `strata-secrets dev-server — start the bundled Infisical-compatible server on 127.0.0.1
and print the variables to export.

Options:
  --port <n>        port (default: a free one)
  --secrets <file>  TOML or JSON: project_id = "..." and [secrets.<env>."<path>"] tables
                    (default: the demo secrets)`,
};

class UsageError extends Error {}

function version(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version: string }).version;
}

async function notebookDir(arg: string | undefined): Promise<string> {
  if (!arg) throw new UsageError("missing <dir>: the directory that holds notebook.toml");
  const dir = resolve(arg);
  const info = await stat(dir).catch(() => null);
  if (!info?.isDirectory()) throw new UsageError(`${arg} is not a directory`);
  try {
    await access(join(dir, "notebook.toml"));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(code === "ENOENT" ? `no notebook.toml in ${arg}` : `cannot read ${join(arg, "notebook.toml")} (${code})`);
  }
  return dir;
}

const out = (text: string) => process.stdout.write(`${text}\n`);

async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: "boolean" }, "keep-going": { type: "boolean" }, timeout: { type: "string" }, help: { type: "boolean", short: "h" } } });
  if (values.help) return out(HELP["run"]!), 0;
  const dir = await notebookDir(positionals[0]);
  const timeout = values.timeout === undefined ? 20_000 : Number(values.timeout);
  if (!(timeout > 0)) throw new UsageError("--timeout takes a positive number of milliseconds");
  const plugin = createSecretManagerPlugin({ notebookDir: dir, watch: false, fetchTimeoutMs: timeout });
  const style = styleFor(process.stdout);
  try {
    await plugin.open();
    const kernel = createKernel({ notebookDir: dir, plugins: [plugin], echo: !values.json });
    const results = await kernel.runAll({
      keepGoing: values["keep-going"] ?? false,
      onCell: (cell) => {
        if (!values.json) out(style.bold(`── ${cell.id} (${cell.language}) ──`));
      },
    });
    const rows = plugin.rows();
    const status = plugin.status();
    kernel.close();
    if (values.json) {
      out(JSON.stringify({ cells: results.map(({ durationMs, ...r }) => ({ ...r, durationMs: Math.round(durationMs) })), rows, status }, null, 2));
    } else {
      for (const r of results.filter((x) => !x.ok)) out(style.red(`cell ${r.id} failed: ${r.error}`));
      out(`\n${style.bold("Env")}\n${formatRows(rows, style)}\n\n${formatStatus(status, style)}`);
    }
    return results.every((r) => r.ok) ? 0 : 1;
  } finally {
    await plugin.close();
  }
}

function describeEvent(e: PluginEvent): string | null {
  switch (e.type) {
    case "config-reloaded":
      return `reloaded notebook.toml (${[e.secretManagerChanged ? "[secret_manager]" : "", e.envChanged ? "[env]" : ""].filter(Boolean).join(", ")} changed)`;
    case "secrets-fetched": {
      const parts = [...e.added.map((k) => `+${k}`), ...e.changed.map((k) => `~${k}`), ...e.removed.map((k) => `-${k}`)];
      return `fetched from ${e.provider.toUpperCase()}: ${parts.length ? parts.join(" ") : "no changes"}`;
    }
    case "fetch-failed":
      return `fetch failed: ${e.error}`;
    case "config-invalid":
      return `config error: ${e.error}`;
    default:
      return null;
  }
}

async function watchCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { run: { type: "boolean" }, help: { type: "boolean", short: "h" } } });
  if (values.help) return out(HELP["watch"]!), 0;
  const dir = await notebookDir(positionals[0]);
  let running = Promise.resolve();
  let kernel: ReturnType<typeof createKernel> | null = null;
  const rerun = () => {
    running = running.then(async () => {
      if (!kernel) return;
      const results = await kernel.runAll();
      out(`ran ${results.length} cell(s): ${results.every((r) => r.ok) ? "ok" : "a cell failed"}`);
    });
  };
  const plugin = createSecretManagerPlugin({
    notebookDir: dir,
    onEvent: (e) => {
      const line = describeEvent(e);
      if (line) out(`[${new Date().toISOString().slice(11, 23)}] ${line}`);
      if (values.run && opened && (e.type === "secrets-fetched" || (e.type === "config-reloaded" && !e.secretManagerChanged))) rerun();
    },
  });
  let opened = false;
  await plugin.open();
  opened = true;
  kernel = createKernel({ notebookDir: dir, plugins: [plugin] });
  if (values.run) rerun();
  out(`watching ${join(dir, "notebook.toml")} (Ctrl-C to stop)`);
  await new Promise<void>((resolveStop) => {
    process.once("SIGINT", resolveStop);
    process.once("SIGTERM", resolveStop);
  });
  await running;
  kernel.close();
  await plugin.close();
  out("closed");
  return 0;
}

async function serve(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { port: { type: "string" }, help: { type: "boolean", short: "h" } } });
  if (values.help) return out(HELP["serve"]!), 0;
  const dir = await notebookDir(positionals[0]);
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65536)) throw new UsageError("--port takes a port number");
  const { startPanel } = await import("./panel/server.js");
  let notify = () => {};
  const plugin = createSecretManagerPlugin({
    notebookDir: dir,
    onEvent: (e) => {
      const line = describeEvent(e);
      if (line) out(`[${new Date().toISOString().slice(11, 23)}] ${line}`);
      notify();
    },
  });
  await plugin.open();
  const kernel = createKernel({ notebookDir: dir, plugins: [plugin] });
  const panel = await startPanel({ plugin, kernel, ...(port !== undefined ? { port } : {}) });
  notify = () => panel.notify();
  out(`Runtime panel: ${panel.url}\n(the token in this URL grants access to the panel; Ctrl-C to stop)`);
  await new Promise<void>((resolveStop) => {
    process.once("SIGINT", resolveStop);
    process.once("SIGTERM", resolveStop);
  });
  await panel.close();
  kernel.close();
  await plugin.close();
  out("closed");
  return 0;
}

async function jupyter(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { name: { type: "string" }, js: { type: "boolean" }, prefix: { type: "string" }, help: { type: "boolean", short: "h" } } });
  if (values.help || positionals.length === 0) return out(HELP["jupyter"]!), values.help ? 0 : 2;
  const { installKernelspec, uninstallKernelspec } = await import("./jupyter/kernelspec.js");
  const opts = { ...(values.name ? { name: values.name } : {}), ...(values.js ? { js: true } : {}), ...(values.prefix ? { prefix: resolve(values.prefix) } : {}) };
  if (positionals[0] === "install") {
    const { dir, spec } = await installKernelspec(opts);
    out(`installed kernelspec "${String(spec["display_name"])}" in ${dir}`);
    return 0;
  }
  if (positionals[0] === "uninstall") {
    out(`removed ${await uninstallKernelspec(opts)}`);
    return 0;
  }
  throw new UsageError(`unknown jupyter command '${positionals[0]}' (install, uninstall)`);
}

async function devServer(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { port: { type: "string" }, secrets: { type: "string" }, help: { type: "boolean", short: "h" } } });
  if (values.help) return out(HELP["dev-server"]!), 0;
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65536)) throw new UsageError("--port takes a port number");
  const dev = await startDevServer({ ...(port !== undefined ? { port } : {}), ...(values.secrets ? { secretsFile: values.secrets } : {}) });
  out(`Infisical-compatible dev server on ${dev.server.url} (local test secrets only)\n`);
  out(`export INFISICAL_HOST=${dev.credentials.INFISICAL_HOST} INFISICAL_CLIENT_ID=${dev.credentials.INFISICAL_CLIENT_ID} INFISICAL_CLIENT_SECRET=${dev.credentials.INFISICAL_CLIENT_SECRET}`);
  out(`\nproject_id = "${dev.projectId}"   # for [secret_manager] in notebook.toml\n\nCtrl-C to stop.`);
  await new Promise<void>((resolveStop) => {
    process.once("SIGINT", resolveStop);
    process.once("SIGTERM", resolveStop);
  });
  await dev.server.close();
  return 0;
}

/** Runs the command line; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case "run":
        return await run(rest);
      case "watch":
        return await watchCommand(rest);
      case "serve":
        return await serve(rest);
      case "dev-server":
        return await devServer(rest);
      case "jupyter":
        return await jupyter(rest);
      case "--version":
      case "-v":
        return out(version()), 0;
      case undefined:
      case "--help":
      case "-h":
      case "help":
        return out(HELP["main"]!), 0;
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (error instanceof UsageError || code?.startsWith("ERR_PARSE_ARGS")) {
      process.stderr.write(`strata-secrets: ${(error as Error).message}\nSee 'strata-secrets --help'.\n`);
      return 2;
    }
    process.stderr.write(`strata-secrets: ${(error as Error).message}\n`);
    return 1;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const code = await main(process.argv.slice(2));
  process.exitCode = code;
}
