import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { vi } from "vitest";
import { formatRows, styleFor } from "../kernel/format.js";
import { createInfisicalProvider, createSecretManagerPlugin, MASKED, type SecretManagerPluginOptions } from "../plugin/index.js";
import { describe, expect, test } from "./fixtures.js";
import { CANARY, notebookToml, writeNotebook } from "./helpers.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

describe("options are copied and checked up front", () => {
  test.for([
    [{ notebookDir: "" }, "`notebookDir` must be a non-empty string"],
    [{ env: "x" }, "`env` must be an object (default process.env)"],
    [{ credentials: [] }, "`credentials` must be an object (default process.env)"],
    [{ scrubCredentials: "yes" }, "`scrubCredentials` must be a boolean"],
    [{ providers: [] }, "`providers` must be an object of SecretProvider by name"],
    [{ watch: "on" }, "`watch` must be a boolean or { usePolling, interval, settleMs }"],
    [{ watch: { usePoling: true } }, "`watch.usePoling` is not an option (usePolling, interval, settleMs)"],
    [{ watch: { interval: 0 } }, "`watch.interval` must be a positive number"],
    [{ watch: { settleMs: -1 } }, "`watch.settleMs` must be a number >= 0"],
    [{ fetchTimeoutMs: 0 }, "`fetchTimeoutMs` must be a positive number"],
    [{ fetchTimeoutMs: Number.NaN }, "`fetchTimeoutMs` must be a positive number"],
    [{ allowUnsafeNames: "NODE_OPTIONS" }, "`allowUnsafeNames` must be an array of names"],
    [{ reassertAfterCell: 1 }, "`reassertAfterCell` must be a boolean"],
    [{ sensitivePatterns: ["KEY"] }, "`sensitivePatterns` must be an array of RegExp"],
    [{ onEvent: "log" }, "`onEvent` must be a function"],
  ] as const)("%o -> TypeError", ([bad, message], { dir }) => {
    const options = { notebookDir: dir, env: {}, ...bad } as unknown as SecretManagerPluginOptions;
    expect(() => createSecretManagerPlugin(options)).toThrow(new TypeError(`createSecretManagerPlugin: ${message}`));
  });

  test("the caller's options object is neither kept nor changed", async ({ dir, makePlugin }) => {
    await writeNotebook(dir, '[env]\nA = "1"\n');
    const patterns = [/DSN/g];
    const options = { env: {} as Record<string, string>, sensitivePatterns: patterns, allowUnsafeNames: ["NODE_OPTIONS"] };
    const p = makePlugin(options);
    patterns.push(/A/);
    options.allowUnsafeNames.push("LD_PRELOAD");
    await p.open();
    expect(p.rows()).toEqual([{ key: "A", source: "manual", sensitive: false, hidden: false, stale: false }]);
    expect(patterns[0]!.lastIndex).toBe(0);
  });

  test("createInfisicalProvider checks its options", () => {
    expect(() => createInfisicalProvider({ retries: -1 })).toThrow(new TypeError("createInfisicalProvider: `retries` must be an integer >= 0"));
    expect(() => createInfisicalProvider({ retryMinTimeoutMs: 1.5 })).toThrow(TypeError);
  });
});

describe("events", () => {
  test("a throwing listener is reported once on stderr, masked, and breaks nothing", async ({ server, dir, makePlugin }) => {
    await writeNotebook(dir, notebookToml());
    const stderr = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      const env: Record<string, string> = {};
      let fetched = false;
      const p = makePlugin({
        env,
        // From the first fetch on, every event throws (with a value the plugin knows by then).
        onEvent: (e) => {
          fetched ||= e.type === "secrets-fetched";
          if (fetched) throw new Error(`listener broke near ${CANARY.openai}`);
        },
      });
      await p.open();
      await p.refresh();
      p.beforeCellRun({ id: "c" });
      expect(env["OPENAI_API_KEY"]).toBe(CANARY.openai);
      const lines = stderr.mock.calls.map((c) => String(c[0])).filter((l) => l.includes("onEvent"));
      expect(lines).toEqual(["strata-secrets: the onEvent listener threw (listener broke near ***); later failures of it are not reported\n"]);
      expect(server.lists()).toBe(2);
    } finally {
      stderr.mockRestore();
    }
  });
});

describe("one source per rule", () => {
  test("what is hidden: maskedEnv, rows and the CLI table agree (a manual copy of a secret too)", async ({ dir, makePlugin }) => {
    await writeNotebook(dir, notebookToml());
    const p = makePlugin();
    await p.open();
    await p.saveEnv({ ...p.maskedEnv(), DB_COPY: CANARY.db, PLAIN: "shown-value" });
    const masked = p.maskedEnv();
    for (const row of p.rows()) expect(row.hidden, row.key).toBe(masked[row.key] === MASKED);
    const table = formatRows(p.rows(), styleFor(process.stdout, { NO_COLOR: "1" }));
    expect(table).toMatch(/DB_COPY\s+manual\s+hidden/);
    expect(table).toMatch(/PLAIN\s+manual\s+shown/);
  });

  test("redaction/ and watchers/ import nothing from plugin/", () => {
    for (const folder of ["redaction", "watchers"]) {
      for (const name of readdirSync(join(ROOT, folder)).filter((n) => n.endsWith(".ts"))) {
        expect(readFileSync(join(ROOT, folder, name), "utf8"), `${folder}/${name}`).not.toMatch(/from "\.\.\/plugin\//);
      }
    }
  });

  test("the panel page gets the masked marker from the one constant", async () => {
    const { SCRIPT } = await import("../kernel/panel/page.js");
    expect(SCRIPT).toContain(`const MASKED = ${JSON.stringify(MASKED)};`);
    expect(SCRIPT.split(MASKED)).toHaveLength(2);
  });
});
