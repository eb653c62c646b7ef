// Which cells ran with a value that has since changed: per-cell reads of managed keys on the
// real process.env, with the manager's version (Infisical's secret version) or a session
// counter — never a value.
import { execFileSync } from "node:child_process";
import type { SecretManagerPlugin } from "../plugin/index.js";
import { describe, expect, test } from "./fixtures.js";
import { CANARY, notebookToml, PROJECT, writeNotebook } from "./helpers.js";

/** Runs `body` as cell `id` on the real process.env. */
function runCell(p: SecretManagerPlugin, id: string, body: () => void): void {
  p.beforeCellRun({ id });
  try {
    body();
  } finally {
    p.afterCellRun({ id });
  }
}

async function withProcessEnv(run: () => Promise<void>): Promise<void> {
  const saved = { ...process.env };
  try {
    await run();
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

describe("rotation awareness", () => {
  test("only the cell that read the rotated key is stale; re-running it clears it; versions are Infisical's, never values", async ({ server, dir, makePlugin, events }) => {
    await writeNotebook(dir, notebookToml());
    await withProcessEnv(async () => {
      const p = makePlugin({ env: process.env });
      await p.open();
      let seen = "";
      runCell(p, "reads-key", () => void (seen = process.env["OPENAI_API_KEY"] ?? ""));
      runCell(p, "reads-host", () => void (seen += process.env["API_HOST"] ?? ""));
      runCell(p, "writes-key", () => void (process.env["OPENAI_API_KEY"] = "the cell's own"));
      runCell(p, "reads-nothing", () => void (seen += process.env["HOME"] ?? ""));
      expect(seen.startsWith(CANARY.openai)).toBe(true);
      expect(p.cellReads("reads-key")).toEqual([{ key: "OPENAI_API_KEY", source: "infisical", version: "infisical@1", current: true }]);
      expect(p.cellReads("writes-key")).toBeNull();
      expect(p.cellReads("reads-nothing")).toBeNull();
      expect(p.staleCells()).toEqual([]);

      server.store.setSecret(PROJECT, "dev", "/", "OPENAI_API_KEY", CANARY.rotated);
      await p.refresh();
      expect(p.staleCells()).toEqual([{ id: "reads-key", keys: ["OPENAI_API_KEY"] }]);
      expect(p.cellReads("reads-key")).toEqual([{ key: "OPENAI_API_KEY", source: "infisical", version: "infisical@1", current: false }]);
      const stale = events.filter((e) => e.type === "cells-stale");
      expect(stale.at(-1)).toEqual({ type: "cells-stale", cells: [{ id: "reads-key", keys: ["OPENAI_API_KEY"] }] });

      runCell(p, "reads-key", () => void process.env["OPENAI_API_KEY"]);
      expect(p.staleCells()).toEqual([]);
      expect(p.cellReads("reads-key")?.[0]).toMatchObject({ version: "infisical@2", current: true });
      // Nothing of this carries a value (the fixture's canary sweep checks events and rows too).
      expect(JSON.stringify([p.staleCells(), p.cellReads("reads-key"), stale])).not.toContain(CANARY.rotated);
    });
  });

  test("provenance: manager versions only, restored in the next session, stale at once when rotated meanwhile; never a value", async ({ server, dir, makePlugin, events }) => {
    await writeNotebook(dir, notebookToml({ env: 'LOG_LEVEL = "info"' }));
    let kept: unknown;
    await withProcessEnv(async () => {
      const p = makePlugin({ env: process.env });
      await p.open();
      runCell(p, "reads-key", () => void process.env["OPENAI_API_KEY"]);
      runCell(p, "reads-level", () => void process.env["LOG_LEVEL"]); // a session counter: not kept
      kept = JSON.parse(JSON.stringify(p.provenance()));
      await p.close();
    });
    expect(kept).toEqual({ "reads-key": { OPENAI_API_KEY: { source: "infisical", version: "infisical@1" } } });
    server.store.setSecret(PROJECT, "dev", "/", "OPENAI_API_KEY", CANARY.rotated);
    await withProcessEnv(async () => {
      const next = makePlugin({ env: process.env });
      await next.open();
      runCell(next, "other", () => void process.env["API_HOST"]);
      // Malformed or session-local entries are skipped; a cell already run in this session is kept.
      expect(next.restoreProvenance({ ...(kept as object), other: { API_HOST: { source: "infisical", version: "infisical@0" } }, junk: 5, bad: { K: { source: "x", version: "s3" } } })).toBe(1);
      expect(next.staleCells()).toEqual([{ id: "reads-key", keys: ["OPENAI_API_KEY"] }]);
      expect(events.at(-1)).toEqual({ type: "cells-stale", cells: [{ id: "reads-key", keys: ["OPENAI_API_KEY"] }] });
      expect(next.restoreProvenance(null)).toBe(0);
      expect(next.restoreProvenance([1, 2])).toBe(0);
      runCell(next, "reads-key", () => void process.env["OPENAI_API_KEY"]);
      expect(next.staleCells()).toEqual([]);
      expect(JSON.stringify(next.provenance())).not.toContain(CANARY.rotated);
    });
  });

  test("a cell that reads the whole environment (spread, Object.keys, a child process) is stale after any change", async ({ server, dir, makePlugin }) => {
    await writeNotebook(dir, notebookToml());
    await withProcessEnv(async () => {
      const p = makePlugin({ env: process.env });
      await p.open();
      runCell(p, "spread", () => void { ...process.env });
      runCell(p, "child", () => void execFileSync("true", { env: process.env }));
      runCell(p, "keys", () => void Object.keys(process.env).length);
      server.store.setSecret(PROJECT, "dev", "/", "API_HOST", "rotated.example.test");
      await p.refresh();
      expect(p.staleCells()).toEqual([
        { id: "spread", keys: ["API_HOST"] },
        { id: "child", keys: ["API_HOST"] },
        { id: "keys", keys: ["API_HOST"] },
      ]);
    });
  });

  test("a switch to another path makes every cell that read a managed key stale; [env] values use a session counter", async ({ dir, makePlugin }) => {
    await writeNotebook(dir, notebookToml({ env: 'LOG_LEVEL = "info"\nOPENAI_API_KEY = ""' }));
    await withProcessEnv(async () => {
      const p = makePlugin({ env: process.env });
      await p.open();
      runCell(p, "a", () => void process.env["OPENAI_API_KEY"]);
      runCell(p, "b", () => void process.env["LOG_LEVEL"]);
      expect(p.cellReads("b")?.[0]).toMatchObject({ key: "LOG_LEVEL", source: "manual", version: expect.stringMatching(/^s\d+$/) });
      await p.saveSecretManagerConfig({ provider: "infisical", project_id: PROJECT, path: "/app" });
      expect(p.staleCells()).toEqual([{ id: "a", keys: ["OPENAI_API_KEY"] }]);
      await p.saveEnv({ ...p.maskedEnv(), LOG_LEVEL: "debug" });
      expect(p.staleCells().map((c) => c.id)).toEqual(["a", "b"]);
      await p.saveSecretManagerConfig(null);
      expect(p.staleCells()).toEqual([
        { id: "a", keys: ["OPENAI_API_KEY"] },
        { id: "b", keys: ["LOG_LEVEL"] },
      ]);
    });
  });

  test("a rotation fetched while a cell runs: that cell saw the old value and is stale after it ends", async ({ server, dir, makePlugin }) => {
    await writeNotebook(dir, notebookToml());
    await withProcessEnv(async () => {
      const p = makePlugin({ env: process.env });
      await p.open();
      p.beforeCellRun({ id: "long" });
      server.store.setSecret(PROJECT, "dev", "/", "OPENAI_API_KEY", CANARY.rotated);
      await p.refresh();
      expect(process.env["OPENAI_API_KEY"]).toBe(CANARY.openai);
      p.afterCellRun({ id: "long" });
      expect(p.staleCells()).toEqual([{ id: "long", keys: ["OPENAI_API_KEY"] }]);
    });
  });
});
