import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { cp, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test as base } from "./fixtures.js";
import { identityCredentials, notebookToml, writeNotebook } from "./helpers.js";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));
export const CLI = join(ROOT, "kernel", "bin.ts");
/** A child process under tsx on a loaded machine can take seconds to start. */
export const WAIT = 30_000;

export interface Started {
  child: ChildProcessWithoutNullStreams;
  out: () => string;
  err: () => string;
  exit: Promise<number | null>;
}

export interface CliFixtures {
  /** The kernel's environment for the CLI: the fixture server's identity, no colors. */
  childEnv: (extra?: Record<string, string>) => NodeJS.ProcessEnv;
  /** Starts the CLI; every child is killed after the test. */
  start: (args: string[], env?: NodeJS.ProcessEnv) => Started;
  run: (args: string[], env?: NodeJS.ProcessEnv) => Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** The demo notebook's cells with the fixture server's [secret_manager]. */
  demoNotebook: (extraCells?: string) => Promise<void>;
}

/** The CLI fixture: the `strata-secrets` command under tsx, children killed after each test. */
export const test = base.extend<CliFixtures>({
  childEnv: async ({ server }, use) => {
    await use((extra = {}) => ({ PATH: process.env["PATH"], HOME: process.env["HOME"], NO_COLOR: "1", ...identityCredentials(server), ...extra }));
  },
  start: async ({ childEnv }, use) => {
    const children: ChildProcessWithoutNullStreams[] = [];
    try {
      await use((args, env = childEnv()) => {
        const child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], { cwd: ROOT, env });
        children.push(child);
        let out = "";
        let err = "";
        child.stdout.on("data", (d: Buffer) => (out += d.toString()));
        child.stderr.on("data", (d: Buffer) => (err += d.toString()));
        const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
        return { child, out: () => out, err: () => err, exit };
      });
    } finally {
      for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
    }
  },
  run: async ({ start }, use) => {
    await use(async (args, env) => {
      const p = start(args, env);
      const code = await p.exit;
      return { code, stdout: p.out(), stderr: p.err() };
    });
  },
  demoNotebook: async ({ dir }, use) => {
    await use(async (extraCells = "") => {
      await cp(join(ROOT, "fixtures", "notebooks", "demo", "cells"), join(dir, "cells"), { recursive: true });
      const demo = await readFile(join(ROOT, "fixtures", "notebooks", "demo", "notebook.toml"), "utf8");
      const cells = demo.slice(demo.indexOf("[[cells]]"));
      await writeNotebook(dir, notebookToml({ extra: cells + extraCells }));
    });
  },
});

