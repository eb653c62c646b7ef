import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { InfisicalServer } from "../fixtures/infisical-server/index.js";
import { createKernel } from "../kernel/kernel.js";
import { createSecretManagerPlugin, type SecretManagerPlugin } from "../plugin/index.js";
import { CANARY, canariesIn, canaryFilesUnder, identityCredentials, notebookToml, PROJECT, startFixture, tempDir, writeNotebook } from "./helpers.js";

let server: InfisicalServer;
let dir: string;
let cleanup: () => Promise<void>;
let plugin: SecretManagerPlugin;
const kernels: { close(): void }[] = [];
function kernelFor(options: Parameters<typeof createKernel>[0]) {
  const k = createKernel(options);
  kernels.push(k);
  return k;
}

async function notebook(cells: Record<string, { code: string; language?: string; env?: string }>): Promise<void> {
  await mkdir(join(dir, "cells"), { recursive: true });
  let order = 1;
  let extra = "";
  for (const [id, cell] of Object.entries(cells)) {
    const ext = cell.language === "typescript" ? "ts" : "js";
    await writeFile(join(dir, "cells", `${id}.${ext}`), cell.code);
    extra += `[[cells]]\nid = "${id}"\nfile = "${id}.${ext}"\nlanguage = "${cell.language ?? "javascript"}"\norder = ${order++}\n${cell.env ? `env = ${cell.env}\n` : ""}\n`;
  }
  await writeNotebook(dir, notebookToml({ extra }));
}

const consoleFile = async (id: string) => JSON.parse(await readFile(join(dir, ".strata", "console", `${id}.json`), "utf8")) as { stdout: string; stderr: string };

beforeEach(async () => {
  server = await startFixture();
  ({ dir, cleanup } = await tempDir());
});
afterEach(async () => {
  for (const k of kernels.splice(0)) k.close();
  await plugin?.close();
  expect(await canaryFilesUnder(dir)).toEqual([]);
  await server.close();
  await cleanup();
});

function open(): Promise<void> {
  plugin = createSecretManagerPlugin({ notebookDir: dir, credentials: identityCredentials(server), watch: false });
  return plugin.open();
}

describe("reference kernel", () => {
  it("runs JS and TS cells in order with the plugin's env, masking and saving their output", async () => {
    await notebook({
      first: { code: 'globalThis.order = ["first"]; console.log("db", process.env.DATABASE_URL);' },
      typed: { language: "typescript", code: 'const n: number = 2; globalThis.order.push("typed"); process.stdout.write(`key ${process.env.OPENAI_API_KEY} level ${process.env.LOG_LEVEL}\\n`);', env: '{ LOG_LEVEL = "trace" }' },
      quiet: { code: "globalThis.order.push('quiet');" },
    });
    await open();
    const kernel = kernelFor({ notebookDir: dir, plugins: [plugin], echo: false });
    const results = await kernel.runAll();
    expect(results.map((r) => [r.id, r.ok])).toEqual([["first", true], ["typed", true], ["quiet", true]]);
    expect((globalThis as { order?: string[] }).order).toEqual(["first", "typed", "quiet"]);
    expect(results[0]!.stdout).toBe("db ***\n");
    expect(results[1]!.stdout).toBe("key *** level trace\n");
    expect(await consoleFile("first")).toEqual({ stdout: "db ***\n", stderr: "" });
    await expect(readFile(join(dir, ".strata", "console", "quiet.json"))).rejects.toThrow();
    expect(canariesIn(results)).toEqual([]);
  });

  it("top-level await and async output before the cell settles are captured", async () => {
    await notebook({
      tla: { code: 'setTimeout(() => console.error("late", process.env.OPENAI_API_KEY), 5);\nawait new Promise((r) => setTimeout(r, 30));\nconsole.log("after await");' },
    });
    await open();
    const [r] = await kernelFor({ notebookDir: dir, plugins: [plugin], echo: false }).runAll();
    expect(r).toMatchObject({ ok: true, stdout: "after await\n", stderr: "late ***\n" });
  });

  it("a throwing cell is reported masked and stops the run, unless keepGoing", async () => {
    await notebook({
      boom: { code: "throw new Error(`bad key ${process.env.OPENAI_API_KEY}`);" },
      next: { code: 'console.log("ran");' },
    });
    await open();
    const kernel = kernelFor({ notebookDir: dir, plugins: [plugin], echo: false });
    const stopped = await kernel.runAll();
    expect(stopped.map((r) => r.id)).toEqual(["boom"]);
    expect(stopped[0]).toMatchObject({ ok: false, error: "bad key ***" });
    expect(stopped[0]!.stderr).toContain("Error: bad key ***");
    expect((await consoleFile("boom")).stderr).toContain("bad key ***");
    const all = await kernel.runAll({ keepGoing: true });
    expect(all.map((r) => [r.id, r.ok])).toEqual([["boom", false], ["next", true]]);
  });

  it("a cell that rotates nothing sees a rotated value after refresh; overwrites do not stick", async () => {
    await notebook({
      look: { code: 'console.log(process.env.OPENAI_API_KEY.length, process.env.OPENAI_API_KEY.slice(-4)); process.env.OPENAI_API_KEY = "clobbered";' },
    });
    await open();
    const kernel = kernelFor({ notebookDir: dir, plugins: [plugin], echo: false });
    expect((await kernel.runAll())[0]!.stdout).toBe(`${CANARY.openai.length} ${CANARY.openai.slice(-4)}\n`);
    server.store.setSecret(PROJECT, "dev", "/", "OPENAI_API_KEY", CANARY.rotated);
    await plugin.refresh();
    expect((await kernel.runAll())[0]!.stdout).toBe(`${CANARY.rotated.length} ${CANARY.rotated.slice(-4)}\n`);
  });

  it("a failing hook fails the cell with a clear message instead of crashing", async () => {
    await notebook({ c: { code: 'console.log("should not run")' } });
    const kernel = kernelFor({
      notebookDir: dir,
      echo: false,
      plugins: [{ beforeCellRun: () => { throw new Error("hook exploded"); }, afterCellRun: () => undefined }],
    });
    const [r] = await kernel.runAll();
    expect(r).toMatchObject({ ok: false, stdout: "" });
    expect(r!.error).toContain("beforeCellRun failed: hook exploded");
  });
});
