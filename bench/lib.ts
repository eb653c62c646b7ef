import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startInfisicalServer, type InfisicalServer, type InfisicalServerOptions, type ProjectSecrets } from "../fixtures/infisical-server/index.js";
import { packageRoot } from "../kernel/paths.js";
import { createSecretManagerPlugin, type SecretManagerPlugin, type SecretManagerPluginOptions } from "../plugin/index.js";

export interface Row {
  group: string;
  name: string;
  unit: string;
  min: number;
  median: number;
  p95: number;
  max: number;
  /** The value of the baseline row this one is compared with, measured in the same run. */
  baseline?: number;
  /** baseline / median (how many times faster), or median / baseline for throughput. */
  ratio?: number;
  target?: string;
  pass?: boolean;
  note?: string;
}

export function stats(samples: number[]): { min: number; median: number; p95: number; max: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * (s.length - 1)))]!;
  return { min: s[0]!, median: at(0.5), p95: at(0.95), max: s[s.length - 1]! };
}

export async function tempNotebook(text: string): Promise<{ dir: string; file: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "strata-bench-"));
  const file = join(dir, "notebook.toml");
  await writeFile(file, text);
  return { dir, file, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export function notebook(path: string, projectId: string, env = 'LOG_LEVEL = "info"'): string {
  return `[secret_manager]\nprovider = "infisical"\nproject_id = "${projectId}"\nenvironment = "dev"\npath = "${path}"\n\n[env]\n${env}\n`;
}

/** Resolves when `check()` is true, polling every millisecond (no fixed sleeps). */
export async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("bench: timed out");
    await new Promise((r) => setImmediate(r));
  }
}

export function fmt(value: number, unit: string): string {
  if (unit === "ms") return value < 10 ? value.toFixed(2) : value.toFixed(1);
  if (unit === "µs" || unit === "ns") return value < 10 ? value.toFixed(3) : value.toFixed(1);
  if (unit === "MiB/s" || unit === "MiB") return value < 10 ? value.toFixed(2) : value.toFixed(0);
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

export interface BenchSession {
  server: InfisicalServer;
  dir: string;
  file: string;
  plugin: SecretManagerPlugin;
  credentials: Record<string, string>;
  /** The environment the plugin patches. */
  env: Record<string, string | undefined>;
  /** Closes the plugin (if still open), the server and removes the notebook. */
  close(): Promise<void>;
}

/** A fixture server with one project and identity, a temp notebook on path "/", an open plugin. */
export async function benchSession(projectId: string, secrets: ProjectSecrets, options: Partial<SecretManagerPluginOptions> = {}): Promise<BenchSession> {
  const server = await startInfisicalServer({ projects: [{ id: projectId, secrets }], identities: [{ clientId: "bench", clientSecret: "bench-secret" }] });
  const nb = await tempNotebook(notebook("/", projectId));
  const credentials = { INFISICAL_HOST: server.url, INFISICAL_CLIENT_ID: "bench", INFISICAL_CLIENT_SECRET: "bench-secret" };
  const env: Record<string, string | undefined> = {};
  const plugin = createSecretManagerPlugin({ notebookDir: nb.dir, env, credentials, ...options });
  await plugin.open();
  return {
    server,
    dir: nb.dir,
    file: nb.file,
    plugin,
    credentials,
    env,
    async close() {
      await plugin.close();
      await server.close();
      await nb.cleanup();
    },
  };
}

/** The fixture server in its own process (bench/server-process.ts): its URL and a stop function. */
export async function serverProcess(options: InfisicalServerOptions): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ["--import", "tsx", "bench/server-process.ts", JSON.stringify(options)], { cwd: packageRoot(), stdio: ["pipe", "pipe", "inherit"] });
  let out = "";
  child.stdout.setEncoding("utf8");
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on("data", (d: string) => {
      out += d;
      if (out.includes("\n")) resolve(out.trim());
    });
    child.once("exit", (code) => reject(new Error(`bench: server process exited (${code})`)));
  });
  return {
    url,
    async stop() {
      if (child.exitCode !== null) return;
      child.stdin.end();
      await once(child, "exit");
    },
  };
}
