// Per-cell env patching on the real process.env: a cell's writes are known without scanning
// the environment, and everything else sees the same environment as before.
import { execFileSync, execSync } from "node:child_process";
import { homedir } from "node:os";
import { Worker } from "node:worker_threads";
import { describe, expect, test } from "./fixtures.js";
import { CANARY, notebookToml, writeNotebook } from "./helpers.js";

describe("per-cell tracking of process.env", () => {
  test("overwrites and deletes of managed keys are undone after the cell; the cell's own variables stay", async ({ dir, makePlugin }) => {
    await writeNotebook(dir, notebookToml({ env: 'LOG_LEVEL = "info"\nOPENAI_API_KEY = ""' }));
    const saved = { ...process.env };
    const p = makePlugin({ env: process.env });
    try {
      await p.open();
      p.beforeCellRun({ id: "a" });
      const alias = process.env; // taken during a cell: the same object cells see
      process.env["LOG_LEVEL"] = "clobbered";
      delete process.env["LOG_LEVEL"];
      alias["LOG_LEVEL"] = "clobbered again";
      process.env["CELL_OWN"] = "mine";
      Object.defineProperty(process.env, "ANOTHER", { value: "x", enumerable: true, configurable: true, writable: true });
      p.afterCellRun({ id: "a" });
      p.beforeCellRun({ id: "b" });
      expect(process.env["LOG_LEVEL"]).toBe("info");
      expect(process.env["CELL_OWN"]).toBe("mine");
      p.afterCellRun({ id: "b" });
    } finally {
      await p.close();
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    }
  });

  test("child processes, Object.keys(process.env), native code and workers see the managed values", async ({ dir, makePlugin }) => {
    const home = `/tmp/strata-home-${process.pid}`;
    await writeNotebook(dir, notebookToml({ env: `HOME = "${home}"\nSTRATA_PLAIN = "plain-value"\nOPENAI_API_KEY = ""` }));
    const saved = { ...process.env };
    const p = makePlugin({ env: process.env });
    try {
      await p.open();
      p.beforeCellRun({ id: "c" });
      expect(Object.keys(process.env)).toEqual(expect.arrayContaining(["STRATA_PLAIN", "OPENAI_API_KEY", "DATABASE_URL"]));
      expect({ ...process.env }["STRATA_PLAIN"]).toBe("plain-value");
      expect(execSync("printenv STRATA_PLAIN").toString()).toBe("plain-value\n");
      expect(execFileSync("sh", ["-c", 'printf %s "$OPENAI_API_KEY"']).toString()).toBe(CANARY.openai);
      expect(homedir()).toBe(home); // libuv reads HOME from the C environment
      const fromWorker = await new Promise<string>((resolve, reject) => {
        const w = new Worker("require('worker_threads').parentPort.postMessage(process.env.STRATA_PLAIN)", { eval: true });
        w.once("message", (m: string) => resolve(m));
        w.once("error", reject);
      });
      expect(fromWorker).toBe("plain-value");
      p.afterCellRun({ id: "c" });
    } finally {
      await p.close();
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
    expect(process.env["STRATA_PLAIN"]).toBeUndefined();
  });
});

describe("a rotation during a cell", () => {
  test("the running cell and its children keep the old value; the next cell has the new one at no cost", async ({ server, dir, makePlugin }) => {
    const { PROJECT } = await import("./helpers.js");
    await writeNotebook(dir, notebookToml());
    const saved = { ...process.env };
    const p = makePlugin({ env: process.env });
    try {
      await p.open();
      p.beforeCellRun({ id: "a" });
      expect(process.env["OPENAI_API_KEY"]).toBe(CANARY.openai);
      server.store.setSecret(PROJECT, "dev", "/", "OPENAI_API_KEY", CANARY.rotated);
      server.store.deleteSecret(PROJECT, "dev", "/", "API_HOST");
      server.store.setSecret(PROJECT, "dev", "/", "BRAND_NEW", "brand-new-value");
      await p.refresh();
      // Stable for the running cell: the old value, the removed key still there, no new key.
      expect(process.env["OPENAI_API_KEY"]).toBe(CANARY.openai);
      expect(process.env["API_HOST"]).toBe("api.example.test");
      expect("BRAND_NEW" in process.env).toBe(false);
      expect(Object.keys(process.env)).toContain("API_HOST");
      expect(Object.keys(process.env)).not.toContain("BRAND_NEW");
      expect(execFileSync("sh", ["-c", 'printf "%s|%s|%s" "$OPENAI_API_KEY" "$API_HOST" "${BRAND_NEW:-none}"']).toString()).toBe(`${CANARY.openai}|api.example.test|none`);
      // What the cell sets is what it sees, until it ends (then managed values come back).
      process.env["OPENAI_API_KEY"] = "set-by-the-cell";
      expect(process.env["OPENAI_API_KEY"]).toBe("set-by-the-cell");
      p.afterCellRun({ id: "a" });
      p.beforeCellRun({ id: "b" });
      expect(process.env["OPENAI_API_KEY"]).toBe(CANARY.rotated);
      expect(process.env["API_HOST"]).toBeUndefined();
      expect(process.env["BRAND_NEW"]).toBe("brand-new-value");
      p.afterCellRun({ id: "b" });
    } finally {
      await p.close();
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });
});
