import { execFileSync, spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createHash } from "node:crypto";
import { symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InfisicalServer } from "../fixtures/infisical-server/index.js";
import { installKernelspec } from "../kernel/jupyter/kernelspec.js";
import { CANARY, canariesIn, canaryFilesUnder, identityCredentials, notebookToml, PROJECT, runsWith, startFixture, tempDir, waitFor, writeNotebook } from "./helpers.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const PYTHON = "/usr/bin/python3";
const available = runsWith(
  spawnSync(PYTHON, ["-c", "import jupyter_client"]).status === 0,
  "jupyter test: /usr/bin/python3 has no jupyter_client (apt-get install python3-jupyter-client)",
);

interface CellOutput {
  stdout: string;
  stderr: string;
  status: string;
  messages: unknown[];
  /** Stream text of iopub messages of no cell (start-up, background). */
  others: string;
}

const sha = (v: string) => createHash("sha256").update(v).digest("hex").slice(0, 16);
/** A cell that prints a fingerprint of a variable, never the value. */
const fingerprint = (name: string) => `import { createHash } from "crypto";\nconsole.log("fp=" + createHash("sha256").update(process.env.${name} ?? "").digest("hex").slice(0, 16));`;

/** A tslab kernel with strata-secrets, started through the kernelspec, driven by jupyter_client. */
interface JupyterKernel {
  pid: number;
  cell(code: string): Promise<CellOutput>;
  shutdown(): Promise<Record<string, unknown>>;
  kill(): void;
  transcript: unknown[];
  /** When the kernel answered as ready. */
  startedAt: number;
  /** The kernel's own stderr (through the driver) so far. */
  stderr(): string;
}

async function startKernel(kernelName: string, prefix: string, dir: string, env: Record<string, string>): Promise<JupyterKernel> {
  const driver: ChildProcessWithoutNullStreams = spawn(PYTHON, [join(ROOT, "test", "jupyter", "driver.py"), kernelName, dir], {
    env: { PATH: process.env["PATH"], HOME: process.env["HOME"], JUPYTER_PATH: join(prefix, "share", "jupyter"), ...env },
  });
  let driverErr = "";
  driver.stderr.on("data", (d: Buffer) => (driverErr += d.toString()));
  const lines = createInterface({ input: driver.stdout })[Symbol.asyncIterator]();
  const transcript: unknown[] = [];
  const next = async (): Promise<Record<string, unknown>> => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`driver exited: ${driverErr}`);
    const parsed = JSON.parse(value) as Record<string, unknown>;
    transcript.push(parsed);
    return parsed;
  };
  let pid = 0;
  // The kernel is the driver's child: killing the driver alone would leave it running.
  const kill = () => {
    if (pid > 0) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    if (driver.exitCode === null) driver.kill("SIGKILL");
  };
  try {
    const ready = await next();
    pid = ready["pid"] as number;
    return {
      pid,
      transcript,
      kill,
      startedAt: Date.now(),
      stderr: () => driverErr,
      async cell(code) {
        driver.stdin.write(`${JSON.stringify({ code })}\n`);
        return (await next()) as unknown as CellOutput;
      },
      async shutdown() {
        driver.stdin.write(`${JSON.stringify({ shutdown: true })}\n`);
        return next();
      },
    };
  } catch (error) {
    kill();
    throw error;
  }
}

/** A cell that fetches again and prints the error, if any (a short deadline may miss a cold start). */
const REFRESH = "const strata: any = (globalThis as any).strataSecrets;\nawait strata.refresh();\nconsole.log(String(strata.status().error));";

describe.runIf(available)("tslab Jupyter kernel with strata-secrets, driven by jupyter_client", () => {
  let server: InfisicalServer;
  let dir: string;
  let prefix: string;
  const cleanups: (() => Promise<void>)[] = [];
  let kernel: JupyterKernel;
  const kernels: JupyterKernel[] = [];
  const env = () => ({ STRATA_FETCH_TIMEOUT_MS: "1500", ...identityCredentials(server) });

  /** Refreshes until a fetch succeeds: every test starts from the server's current values. */
  async function synced(k: JupyterKernel): Promise<void> {
    await waitFor(async () => (await k.cell(REFRESH)).stdout === "null\n", 60_000, "a successful fetch in the kernel");
  }

  beforeAll(async () => {
    // The kernelspec loads the built preload: build it from the current sources.
    execFileSync(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", join(ROOT, "tsconfig.build.json")], { cwd: ROOT });
    server = await startFixture();
    const nb = await tempDir();
    const jp = await tempDir("strata-jupyter-");
    dir = nb.dir;
    prefix = jp.dir;
    cleanups.push(nb.cleanup, jp.cleanup);
    await writeNotebook(dir, notebookToml());
    // tslab type-checks cells: @types/node must resolve from the notebook's folder.
    await symlink(join(ROOT, "node_modules"), join(dir, "node_modules"), "dir");
    await installKernelspec({ prefix, name: "strata-test" });
    kernel = await startKernel("strata-test", prefix, dir, env());
    kernels.push(kernel);
    expect(kernel.pid).toBeGreaterThan(0);
  }, 120_000);

  afterAll(async () => {
    let leaked: string[] = [];
    try {
      for (const k of kernels) k.kill();
      leaked = [...canariesIn(kernels.flatMap((k) => k.transcript)), ...(await canaryFilesUnder(dir))];
    } finally {
      await server?.close();
      for (const c of cleanups) await c();
    }
    expect(leaked).toEqual([]);
  });

  it("a cell reads a fetched secret; a child process sees it; credentials are not visible", async () => {
    await synced(kernel);
    const fp = await kernel.cell(fingerprint("OPENAI_API_KEY"));
    expect(fp.status).toBe("ok");
    expect(fp.stdout).toBe(`fp=${sha(CANARY.openai)}\n`);
    const child = await kernel.cell('import { execSync } from "child_process";\nconsole.log("child=" + execSync("printenv DATABASE_URL").toString().trim().length);');
    expect(child.stdout).toBe(`child=${CANARY.db.length}\n`);
    const creds = await kernel.cell('import { execSync as run } from "child_process";\nconsole.log(JSON.stringify(Object.keys(process.env).filter((k) => /^INFISICAL_(CLIENT|TOKEN)/.test(k))), run("env").toString().includes("INFISICAL_CLIENT_SECRET"));');
    expect(creds.stdout).toBe("[] false\n");
  });

  it("a printed secret reaches the client masked, in stream messages", async () => {
    await synced(kernel);
    const out = await kernel.cell('{\n  console.log("key:", process.env.OPENAI_API_KEY);\n  process.stderr.write("db: " + process.env.DATABASE_URL + "\\n");\n}');
    expect(out.stdout).toBe("key: ***\n");
    expect(out.stderr).toBe("db: ***\n");
    expect(canariesIn(out.messages)).toEqual([]);
  });

  it("display helpers (text, html, markdown, json) reach the client masked, in display_data", async () => {
    await synced(kernel);
    const shown = await kernel.cell([
      'import * as tslab from "tslab";',
      'tslab.display.text("text " + process.env.OPENAI_API_KEY);',
      'tslab.display.html("<b>" + process.env.DATABASE_URL + "</b>");',
      'tslab.display.markdown("`" + Buffer.from(process.env.OPENAI_API_KEY!).toString("base64") + "`");',
      'tslab.display.raw("application/json", JSON.stringify({ key: process.env.OPENAI_API_KEY }));',
    ].join("\n"));
    expect(shown.status, JSON.stringify(shown)).toBe("ok");
    const displays = shown.messages.filter((m) => (m as { type: string }).type === "display_data");
    expect(displays).toHaveLength(4);
    expect(JSON.stringify(displays)).toContain("text ***");
    expect(JSON.stringify(displays)).toContain("<b>***</b>");
    expect(canariesIn(shown.messages)).toEqual([]);
  });

  it("a child process forked by a cell does not load the plugin: it runs, prints nothing extra, exits", async () => {
    await writeFile(join(dir, "child.mjs"), 'console.log("child ran", typeof globalThis.strataSecrets, process.env.OPENAI_API_KEY ? "with" : "without", "the key");\n');
    const forked = await kernel.cell([
      'import { fork } from "child_process";',
      'const child = fork("child.mjs", { stdio: "pipe" });',
      'let out = "";',
      'child.stdout!.on("data", (d) => (out += d));',
      'child.stderr!.on("data", (d) => (out += "ERR:" + d));',
      'const code = await new Promise((r) => child.on("exit", r));',
      'console.log(JSON.stringify({ code, out }));',
    ].join("\n"));
    expect(forked.status, JSON.stringify(forked)).toBe("ok");
    // The child inherits --import <preload> and the cell's env (so the key), but no plugin, no watcher, no noise.
    expect(JSON.parse(forked.stdout)).toEqual({ code: 0, out: "child ran undefined with the key\n" });
  });

  it("a cell that overwrites a managed key sees the managed value again in the next cell", async () => {
    await synced(kernel);
    await kernel.cell('process.env.OPENAI_API_KEY = "clobbered"; delete process.env.DATABASE_URL;');
    expect((await kernel.cell(fingerprint("OPENAI_API_KEY"))).stdout).toBe(`fp=${sha(CANARY.openai)}\n`);
    expect((await kernel.cell(fingerprint("DATABASE_URL"))).stdout).toBe(`fp=${sha(CANARY.db)}\n`);
  });

  it("a rotation lands after notebook.toml is saved with a changed [secret_manager]", async () => {
    await synced(kernel);
    const file = join(dir, "notebook.toml");
    server.store.setSecret(PROJECT, "dev", "/", "OPENAI_API_KEY", CANARY.rotated);
    try {
      await writeFile(file, notebookToml().replace('path = "/"', `path = "/"\nbase_url = "${server.url}"`));
      await waitFor(async () => (await kernel.cell(fingerprint("OPENAI_API_KEY"))).stdout === `fp=${sha(CANARY.rotated)}\n`, 30_000, "rotated value in a cell");
    } finally {
      server.store.setSecret(PROJECT, "dev", "/", "OPENAI_API_KEY", CANARY.openai);
      await writeFile(file, notebookToml());
      // The next test must not race this reload: wait until the kernel fetched the restored config.
      await waitFor(async () => (await kernel.cell(fingerprint("OPENAI_API_KEY"))).stdout === `fp=${sha(CANARY.openai)}\n`, 30_000, "the restored config's values");
    }
  });

  it("after a rotation, strataSecrets.staleCells() names the cell that read the key; the notice goes to the kernel's log, not a cell", async () => {
    await synced(kernel);
    const reader = await kernel.cell(fingerprint("OPENAI_API_KEY"));
    expect(reader.stdout).toBe(`fp=${sha(CANARY.openai)}\n`);
    server.store.setSecret(PROJECT, "dev", "/", "OPENAI_API_KEY", CANARY.rotated);
    try {
      const refreshed = await kernel.cell(REFRESH);
      expect(refreshed.stdout).toBe("null\n");
      const stale = await kernel.cell('console.log(JSON.stringify((globalThis as any).strataSecrets.staleCells().filter((c: any) => c.keys.includes("OPENAI_API_KEY")).length > 0), JSON.stringify((globalThis as any).strataSecrets.status().staleCells > 0))');
      expect(stale.stdout).toBe("true true\n");
      await waitFor(() => kernel.stderr().includes("strata-secrets: cells ran with values that have since changed:"), 10_000, "the notice in the kernel's log");
      expect(JSON.stringify(kernel.transcript)).not.toContain("have since changed");
    } finally {
      server.store.setSecret(PROJECT, "dev", "/", "OPENAI_API_KEY", CANARY.openai);
      await kernel.cell(REFRESH);
    }
  });

  it("the manager going down keeps the kernel running with the last good values", async () => {
    await synced(kernel);
    server.faults.hang = true;
    try {
      const refresh = await kernel.cell(REFRESH);
      expect(refresh, JSON.stringify(refresh)).toMatchObject({ status: "ok", stdout: "The secret manager did not answer within 1.5s.\n" });
      expect((await kernel.cell(fingerprint("OPENAI_API_KEY"))).stdout).toBe(`fp=${sha(CANARY.openai)}\n`);
    } finally {
      server.faults.hang = false;
    }
  });

  it("no false alarm: workers and saves never run the preload again (no warnings anywhere)", async () => {
    await synced(kernel);
    // The old preload in the SDK's worker thread printed these at start, after saves, and 5 s after start.
    await waitFor(() => Date.now() > kernel.startedAt + 6_000, 10_000, "the 5 s start-up check to have run");
    const file = join(dir, "notebook.toml");
    await writeFile(file, notebookToml({ env: 'LOG_LEVEL = "info"\nSAVED = "1"' }));
    await waitFor(async () => (await kernel.cell('console.log(process.env.SAVED ?? "-")')).stdout === "1\n", 30_000, "the save to land");
    const last = await kernel.cell('console.log("done")');
    const everything = JSON.stringify(kernel.transcript) + last.others + kernel.stderr();
    for (const alarm of ["No Infisical credentials", "could not wrap", "WARNING", "WITHOUT secrets"]) expect(everything, alarm).not.toContain(alarm);
    await writeFile(file, notebookToml());
  });

  it("shutting a kernel down leaves no process behind", async () => {
    const own = await startKernel("strata-test", prefix, dir, env());
    kernels.push(own);
    const res = await own.shutdown();
    expect(res["alive"]).toBe(false);
    await waitFor(() => {
      try {
        process.kill(own.pid, 0);
        return false;
      } catch {
        return true;
      }
    }, 15_000, "kernel process gone");
  });
});
