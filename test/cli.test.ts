import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { cp, readFile, writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createInfisicalProvider } from "../plugin/providers/infisical.js";
import { describe, expect, test as base } from "./fixtures.js";
import { canariesIn, identityCredentials, notebookToml, PROJECT, waitFor, writeNotebook } from "./helpers.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CLI = join(ROOT, "kernel", "cli.ts");
/** A child process under tsx on a loaded machine can take seconds to start. */
const WAIT = 30_000;

interface Started {
  child: ChildProcessWithoutNullStreams;
  out: () => string;
  err: () => string;
  exit: Promise<number | null>;
}

interface CliFixtures {
  /** The kernel's environment for the CLI: the fixture server's identity, no colors. */
  childEnv: (extra?: Record<string, string>) => NodeJS.ProcessEnv;
  /** Starts the CLI; every child is killed after the test. */
  start: (args: string[], env?: NodeJS.ProcessEnv) => Started;
  run: (args: string[], env?: NodeJS.ProcessEnv) => Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** The demo notebook's cells with the fixture server's [secret_manager]. */
  demoNotebook: (extraCells?: string) => Promise<void>;
}

const test = base.extend<CliFixtures>({
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

describe("strata-secrets CLI", () => {
  test("run: runs every cell, prints badges and status, saves masked console files", async ({ dir, run, demoNotebook }) => {
    await demoNotebook();
    const r = await run(["run", dir]);
    expect(r.stderr).toBe("and base64: ***\n");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("── hello (javascript) ──");
    expect(r.stdout).toContain("the key is ***");
    expect(r.stdout).toMatch(/OPENAI_API_KEY\s+INFISICAL\s+hidden/);
    expect(r.stdout).toMatch(/LOG_LEVEL\s+manual\s+shown/);
    expect(r.stdout).toMatch(/Secret manager: infisical\n\s+Last fetched:\s+\d{4}-/);
    expect(r.stdout).not.toMatch(/\u001b\[/);
    const oops = JSON.parse(await readFile(join(dir, ".strata", "console", "oops.json"), "utf8")) as { stdout: string; stderr: string };
    expect(oops).toEqual({ stdout: "the key is ***\n", stderr: "and base64: ***\n" });
    expect(canariesIn(r.stdout + r.stderr)).toEqual([]);
  });

  test("run --json: cells with masked output, rows and status", async ({ dir, run, demoNotebook }) => {
    await demoNotebook();
    const r = await run(["run", dir, "--json"]);
    expect(r.code).toBe(0);
    const data = JSON.parse(r.stdout) as { cells: { id: string; ok: boolean; stdout: string }[]; rows: { key: string; source: string }[]; status: { error: string | null } };
    expect(data.cells.map((c) => c.id)).toEqual(["hello", "connect", "oops"]);
    expect(data.cells[2]!.stdout).toBe("the key is ***\n");
    expect(data.rows.find((x) => x.key === "DATABASE_URL")?.source).toBe("infisical");
    expect(data.status.error).toBeNull();
    expect(canariesIn(r.stdout + r.stderr)).toEqual([]);
  });

  test("run: a throwing cell exits 1; the manager being down still runs cells and shows the error", async ({ server, dir, run, demoNotebook }) => {
    await demoNotebook('\n[[cells]]\nid = "boom"\nfile = "boom.js"\norder = 9\n');
    await writeFile(join(dir, "cells", "boom.js"), "throw new Error(`failed with ${process.env.DATABASE_URL}`);\n");
    const r = await run(["run", dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("cell boom failed: failed with ***");
    server.faults.hang = true;
    const down = await run(["run", dir, "--timeout", "500", "--keep-going"]);
    expect(down.code).toBe(1);
    expect(down.stdout).toContain("Fetch error:    The secret manager did not answer within 0.5s.");
    expect(canariesIn(r.stdout + r.stderr + down.stdout + down.stderr)).toEqual([]);
  });

  test("clear usage errors: no notebook.toml, unknown flag, unknown command; --help", async ({ dir, run }) => {
    const missing = await run(["run", dir]);
    expect(missing).toMatchObject({ code: 2 });
    expect(missing.stderr).toContain("no notebook.toml in");
    const flag = await run(["run", dir, "--nope"]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("'--nope'");
    expect((await run(["frobnicate"])).code).toBe(2);
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("strata-secrets run <dir>");
    expect((await run(["run", "--help"])).stdout).toContain("--keep-going");
  });

  test("watch: prints reloads and fetches (names only) and closes cleanly on SIGINT", async ({ dir, start, demoNotebook }) => {
    await demoNotebook();
    const w = start(["watch", dir]);
    await waitFor(() => w.out().includes("watching "), WAIT, "watching");
    await writeFile(join(dir, "notebook.toml"), (await readFile(join(dir, "notebook.toml"), "utf8")).replace('path = "/"', 'path = "/app"'));
    await waitFor(() => w.out().includes("+APP_SECRET"), WAIT, "fetch line");
    expect(w.out()).toMatch(/reloaded notebook.toml \(\[secret_manager\] changed\)/);
    expect(w.out()).toMatch(/fetched from INFISICAL: .*-API_HOST/);
    w.child.kill("SIGINT");
    expect(await w.exit).toBe(0);
    expect(w.out()).toContain("closed");
    expect(canariesIn(w.out() + w.err())).toEqual([]);
  });

  test("watch --run re-runs the cells after a change", async ({ server, dir, start, demoNotebook }) => {
    await demoNotebook();
    const w = start(["watch", dir, "--run"]);
    await waitFor(() => w.out().includes("ran 3 cell(s): ok"), WAIT, "first run");
    server.store.setSecret(PROJECT, "dev", "/", "API_HOST", "rotated.example.test");
    await writeFile(join(dir, "notebook.toml"), (await readFile(join(dir, "notebook.toml"), "utf8")).replace('LOG_LEVEL = "info"', 'LOG_LEVEL = "warn"'));
    await waitFor(() => w.out().split("ran 3 cell(s): ok").length === 3, WAIT, "second run");
    w.child.kill("SIGTERM");
    expect(await w.exit).toBe(0);
    expect(w.out()).toContain("LOG_LEVEL=warn");
  });

  test("serve: prints a token URL; the API answers with the token only", async ({ dir, start, demoNotebook }) => {
    await demoNotebook();
    const s = start(["serve", dir]);
    const url = await waitFor(() => /Runtime panel: (\S+)/.exec(s.out())?.[1], WAIT, "panel URL");
    const { origin, searchParams } = new URL(url);
    expect((await fetch(`${origin}/api/state`)).status).toBe(401);
    const state = (await (await fetch(`${origin}/api/state`, { headers: { authorization: `Bearer ${searchParams.get("token")}` } })).json()) as { rows: { key: string; source: string }[] };
    expect(state.rows.find((r) => r.key === "OPENAI_API_KEY")?.source).toBe("infisical");
    s.child.kill("SIGINT");
    expect(await s.exit).toBe(0);
    expect(canariesIn(s.out() + s.err() + JSON.stringify(state))).toEqual([]);
  });

  test("dev-server: prints exports that the real SDK can log in with", async ({ dir, start }) => {
    const secrets = join(dir, "secrets.toml");
    await mkdir(dir, { recursive: true });
    await writeFile(secrets, `project_id = "p-cli"\n[secrets.dev."/"]\nFROM_FILE = "dev-server-file-value"\n`);
    const d = start(["dev-server", "--secrets", secrets], { PATH: process.env["PATH"], NO_COLOR: "1" });
    const line = await waitFor(() => d.out().split("\n").find((l) => l.startsWith("export ")), WAIT, "export line");
    const creds = Object.fromEntries(line.slice("export ".length).split(" ").map((kv) => kv.split("=") as [string, string]));
    expect(d.out()).toContain('project_id = "p-cli"');
    const provider = createInfisicalProvider();
    const result = await provider.fetch({ project_id: "p-cli" }, { signal: new AbortController().signal, timeoutMs: WAIT, credentials: creds });
    await provider.close?.();
    expect(result).toMatchObject({ error: null, secrets: { FROM_FILE: "dev-server-file-value" } });
    d.child.kill("SIGINT");
    expect(await d.exit).toBe(0);
  });
});
