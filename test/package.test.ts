// What users install: `npm pack`, the tarball installed into an empty project, the bin run
// through node_modules/.bin (a symlink), the library imported by its package name.
import { execFile } from "node:child_process";
import { cp, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InfisicalServer } from "../fixtures/infisical-server/index.js";
import { canariesIn, canaryFilesUnder, identityCredentials, notebookToml, startFixture, tempDir } from "./helpers.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const run = promisify(execFile);
const VERSION = (JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")) as { version: string }).version;

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

describe("the packed package, installed into an empty project", () => {
  let project: string;
  let server: InfisicalServer;
  const cleanups: (() => Promise<void>)[] = [];

  /** Runs a command in the project; never throws for a non-zero exit. */
  async function sh(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Outcome> {
    try {
      const { stdout, stderr } = await run(file, args, { cwd: project, env: { PATH: process.env["PATH"], HOME: process.env["HOME"], NO_COLOR: "1", ...env }, timeout: 60_000 });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === "number" ? e.code : -1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
    }
  }
  const bin = () => join(project, "node_modules", ".bin", "strata-secrets");

  beforeAll(async () => {
    const packs = await tempDir("strata-pack-");
    const proj = await tempDir("strata-project-");
    cleanups.push(packs.cleanup, proj.cleanup);
    project = proj.dir;
    // `npm pack` runs `prepare` (the build), as publishing would.
    const { stdout } = await run("npm", ["pack", "--pack-destination", packs.dir], { cwd: ROOT, timeout: 120_000 });
    const tarball = join(packs.dir, stdout.trim().split("\n").at(-1)!);
    await writeFile(join(project, "package.json"), JSON.stringify({ name: "empty-project", private: true, type: "module" }));
    await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball], { cwd: project, timeout: 180_000 });
    server = await startFixture();
  }, 300_000);

  afterAll(async () => {
    await server?.close();
    for (const c of cleanups) await c();
  });

  it("the bin runs through the node_modules/.bin symlink: --version, --help", async () => {
    expect(await sh(bin(), ["--version"])).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: "" });
    const help = await sh(bin(), ["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("strata-secrets run <dir>");
    expect(await sh("npx", ["--no-install", "strata-secrets", "--version"])).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
  });

  it("run: the demo notebook's JavaScript and TypeScript cells with secrets, masked", async () => {
    const { dir, cleanup } = await tempDir();
    try {
      await cp(join(ROOT, "fixtures", "notebooks", "demo", "cells"), join(dir, "cells"), { recursive: true });
      const demo = await readFile(join(ROOT, "fixtures", "notebooks", "demo", "notebook.toml"), "utf8");
      await writeFile(join(dir, "notebook.toml"), notebookToml({ extra: demo.slice(demo.indexOf("[[cells]]")) }));
      const r = await sh(bin(), ["run", dir], identityCredentials(server));
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain("── connect (typescript) ──");
      expect(r.stdout).toContain("the key is ***");
      expect(r.stdout).toContain("3 cell(s) ran, all ok; secrets loaded from INFISICAL");
      expect(canariesIn(r.stdout + r.stderr)).toEqual([]);
      expect(await canaryFilesUnder(dir)).toEqual([]);
    } finally {
      await cleanup();
    }
  });

  it("the library is importable by name, with types", async () => {
    const script = 'import { createSecretManagerPlugin, MASKED } from "strata-secrets"; const p = createSecretManagerPlugin({ notebookDir: ".", env: {}, watch: false }); await p.open(); console.log(MASKED, JSON.stringify(p.status().configured)); await p.close();';
    expect(await sh(process.execPath, ["--input-type=module", "-e", script])).toEqual({ code: 0, stdout: "__strata_masked__ false\n", stderr: "" });
    // The entry is a bundle with lazy chunks (zod, smol-toml): a real fetch loads them from the installed layout.
    const { dir, cleanup } = await tempDir();
    try {
      await writeFile(join(dir, "notebook.toml"), notebookToml());
      const fetching = `import { createSecretManagerPlugin } from "strata-secrets"; const p = createSecretManagerPlugin({ notebookDir: ${JSON.stringify(dir)}, env: {}, watch: false, credentials: process.env }); await p.open(); const s = p.status(); console.log(s.fetchError, s.fetchedAt !== null, p.rows().some((r) => r.source === "infisical")); await p.close();`;
      const r = await sh(process.execPath, ["--input-type=module", "-e", fetching], identityCredentials(server));
      expect(r).toEqual({ code: 0, stdout: "null true true\n", stderr: "" });
    } finally {
      await cleanup();
    }
    const pkg = JSON.parse(await readFile(join(project, "node_modules", "strata-secrets", "package.json"), "utf8")) as { types: string };
    expect(await readFile(join(project, "node_modules", "strata-secrets", pkg.types), "utf8")).toContain("createSecretManagerPlugin");
  });

  it("a light install: no tslab, no zeromq, no second TypeScript from us; `jupyter install` says what to add", async () => {
    const installed = await readdir(join(project, "node_modules"));
    expect(installed).not.toContain("tslab");
    expect(installed).not.toContain("zeromq");
    expect(installed).not.toContain("typescript");
    expect(installed).not.toContain("p-retry");
    expect(await readdir(join(project, "node_modules", "@infisical")).catch(() => [])).toEqual([]);
    const du = await sh("du", ["-sb", "node_modules"]);
    expect(Number(du.stdout.split("\t")[0]) / 1e6).toBeLessThan(120);
    await mkdir(join(project, "jp"));
    const jupyter = await sh(bin(), ["jupyter", "install", "--prefix", join(project, "jp")]);
    expect(jupyter.code).toBe(1);
    expect(jupyter.stderr).toBe("strata-secrets: the Jupyter kernel needs tslab, an optional peer dependency that is not installed: run  npm install tslab@1.0.22  in this project, then run this command again\n");
  });
});
