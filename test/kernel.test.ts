import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createKernel, type Kernel } from "../kernel/kernel.js";
import type { SecretManagerPlugin } from "../plugin/index.js";
import { describe, expect, test as base } from "./fixtures.js";
import { CANARY, canariesIn, notebookToml, PROJECT, writeNotebook } from "./helpers.js";

interface KernelFixtures {
  /** Writes cells and a notebook.toml with the fixture server's [secret_manager]. */
  notebook: (cells: Record<string, { code: string; language?: string; env?: string }>) => Promise<void>;
  /** An open plugin on the notebook (process.env patched, the fixture's identity). */
  open: () => Promise<SecretManagerPlugin>;
  /** A kernel; closed after the test whatever happens. */
  kernelFor: (options: Parameters<typeof createKernel>[0]) => Kernel;
  consoleFile: (id: string) => Promise<{ stdout: string; stderr: string }>;
}

const test = base.extend<KernelFixtures>({
  notebook: async ({ dir }, use) => {
    await use(async (cells) => {
      await mkdir(join(dir, "cells"), { recursive: true });
      let order = 1;
      let extra = "";
      for (const [id, cell] of Object.entries(cells)) {
        const ext = cell.language === "typescript" ? "ts" : "js";
        await writeFile(join(dir, "cells", `${id}.${ext}`), cell.code);
        extra += `[[cells]]\nid = "${id}"\nfile = "${id}.${ext}"\nlanguage = "${cell.language ?? "javascript"}"\norder = ${order++}\n${cell.env ? `env = ${cell.env}\n` : ""}\n`;
      }
      await writeNotebook(dir, notebookToml({ extra }));
    });
  },
  open: async ({ makePlugin }, use) => {
    await use(async () => {
      const p = makePlugin({ env: process.env });
      await p.open();
      return p;
    });
  },
  kernelFor: async ({}, use) => {
    const kernels: Kernel[] = [];
    try {
      await use((options) => {
        const k = createKernel(options);
        kernels.push(k);
        return k;
      });
    } finally {
      for (const k of kernels) k.close();
    }
  },
  consoleFile: async ({ dir }, use) => {
    await use(async (id) => JSON.parse(await readFile(join(dir, ".strata", "console", `${id}.json`), "utf8")) as { stdout: string; stderr: string });
  },
});

describe("reference kernel", () => {
  test("runs JS and TS cells in order with the plugin's env, masking and saving their output", async ({ dir, notebook, open, kernelFor, consoleFile }) => {
    await notebook({
      first: { code: 'globalThis.order = ["first"]; console.log("db", process.env.DATABASE_URL);' },
      typed: { language: "typescript", code: 'const n: number = 2; globalThis.order.push("typed"); process.stdout.write(`key ${process.env.OPENAI_API_KEY} level ${process.env.LOG_LEVEL}\\n`);', env: '{ LOG_LEVEL = "trace" }' },
      quiet: { code: "globalThis.order.push('quiet');" },
    });
    const plugin = await open();
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

  test("top-level await and async output before the cell settles are captured", async ({ dir, notebook, open, kernelFor }) => {
    await notebook({
      tla: { code: 'setTimeout(() => console.error("late", process.env.OPENAI_API_KEY), 5);\nawait new Promise((r) => setTimeout(r, 30));\nconsole.log("after await");' },
    });
    const plugin = await open();
    const [r] = await kernelFor({ notebookDir: dir, plugins: [plugin], echo: false }).runAll();
    expect(r).toMatchObject({ ok: true, stdout: "after await\n", stderr: "late ***\n" });
  });

  test("a throwing cell is reported masked and stops the run, unless keepGoing", async ({ dir, notebook, open, kernelFor, consoleFile }) => {
    await notebook({
      boom: { code: "throw new Error(`bad key ${process.env.OPENAI_API_KEY}`);" },
      next: { code: 'console.log("ran");' },
    });
    const plugin = await open();
    const kernel = kernelFor({ notebookDir: dir, plugins: [plugin], echo: false });
    const stopped = await kernel.runAll();
    expect(stopped.map((r) => r.id)).toEqual(["boom"]);
    expect(stopped[0]).toMatchObject({ ok: false, error: "bad key ***" });
    expect(stopped[0]!.stderr).toContain("Error: bad key ***");
    expect((await consoleFile("boom")).stderr).toContain("bad key ***");
    const all = await kernel.runAll({ keepGoing: true });
    expect(all.map((r) => [r.id, r.ok])).toEqual([["boom", false], ["next", true]]);
  });

  test("a cell that rotates nothing sees a rotated value after refresh; overwrites do not stick", async ({ dir, server, notebook, open, kernelFor }) => {
    await notebook({
      look: { code: 'console.log(process.env.OPENAI_API_KEY.length, process.env.OPENAI_API_KEY.slice(-4)); process.env.OPENAI_API_KEY = "clobbered";' },
    });
    const plugin = await open();
    const kernel = kernelFor({ notebookDir: dir, plugins: [plugin], echo: false });
    expect((await kernel.runAll())[0]!.stdout).toBe(`${CANARY.openai.length} ${CANARY.openai.slice(-4)}\n`);
    server.store.setSecret(PROJECT, "dev", "/", "OPENAI_API_KEY", CANARY.rotated);
    await plugin.refresh();
    expect((await kernel.runAll())[0]!.stdout).toBe(`${CANARY.rotated.length} ${CANARY.rotated.slice(-4)}\n`);
  });

  test("every plugin's hooks run in pairs; a failure names plugin and hook and does not stop the others; maskers compose", async ({ dir, notebook, kernelFor }) => {
    await notebook({ c: { code: 'console.log("alpha beta gamma");' } });
    const calls: string[] = [];
    const masker = (from: string, to: string) => () => ({ write: (t: string) => t.replaceAll(from, to), flush: () => "" });
    const plugin = (name: string, extra: { throws?: boolean; mask?: [string, string] } = {}) => ({
      name,
      beforeCellRun: () => {
        calls.push(`${name}:before`);
        if (extra.throws) throw new Error(`${name} exploded`);
      },
      afterCellRun: () => void calls.push(`${name}:after`),
      ...(extra.mask ? { createOutputMasker: masker(...extra.mask) } : {}),
    });
    const ok = kernelFor({ notebookDir: dir, echo: false, plugins: [plugin("first", { mask: ["alpha", "A"] }), { name: "hookless" }, plugin("last", { mask: ["beta", "B"] })] });
    expect((await ok.runAll())[0]).toMatchObject({ ok: true, stdout: "A B gamma\n" });
    expect(calls.splice(0)).toEqual(["first:before", "last:before", "last:after", "first:after"]);

    const failing = kernelFor({ notebookDir: dir, echo: false, plugins: [plugin("first"), plugin("exploding", { throws: true }), plugin("last")] });
    const [r] = await failing.runAll();
    expect(r).toMatchObject({ ok: false, stdout: "", error: '[kernel] plugin "exploding": beforeCellRun failed: exploding exploded' });
    expect(calls).toEqual(["first:before", "exploding:before", "last:before", "last:after", "exploding:after", "first:after"]);
  });

  test("a failing afterCellRun is reported on the cell's stderr, named", async ({ dir, notebook, kernelFor }) => {
    await notebook({ c: { code: 'console.log("ran");' } });
    const k = kernelFor({ notebookDir: dir, echo: false, plugins: [{ name: "p", afterCellRun: () => { throw new Error("after broke"); } }] });
    const [r] = await k.runAll();
    expect(r).toMatchObject({ ok: true, stdout: "ran\n", stderr: '[kernel] plugin "p": afterCellRun failed: after broke\n' });
  });
});
