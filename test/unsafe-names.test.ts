// Variables that make programs run code: refused from the manager and from notebook.toml
// (a pulled notebook must not run code on open) unless allowed.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { UNSAFE_NAMES } from "../redaction/sensitive.js";
import { describe, expect, test } from "./fixtures.js";
import { notebookToml, PROJECT, tempDir, writeNotebook } from "./helpers.js";

describe("code-injecting variables", () => {
  test("PYTHONWARNINGS + BROWSER from the manager are refused: a python3 a cell starts runs nothing", async ({ server, dir, makePlugin }) => {
    const marker = await tempDir("strata-pwned-");
    try {
      const flag = join(marker.dir, "pwned");
      // The known trick: a warning filter that imports `antigravity`, which opens BROWSER.
      server.store.setSecret(PROJECT, "dev", "/", "PYTHONWARNINGS", "all:0:antigravity.x:0:0");
      server.store.setSecret(PROJECT, "dev", "/", "BROWSER", `sh -c 'touch ${flag}' #%s`);
      await writeNotebook(dir, notebookToml());
      const env: Record<string, string> = { PATH: process.env["PATH"]! };
      const p = makePlugin({ env });
      await p.open();
      p.beforeCellRun({ id: "c" });
      expect(env["PYTHONWARNINGS"]).toBeUndefined();
      expect(env["BROWSER"]).toBeUndefined();
      const rows = Object.fromEntries(p.rows().map((r) => [r.key, r]));
      expect(rows["PYTHONWARNINGS"]?.refused).toBe("PYTHONWARNINGS can make the kernel or its child processes run code; allow it with allowUnsafeNames");
      expect(rows["BROWSER"]?.refused).toMatch(/allowUnsafeNames/);
      if (existsSync("/usr/bin/python3")) execFileSync("/usr/bin/python3", ["-c", "pass"], { env, stdio: "ignore", timeout: 20_000 });
      expect(existsSync(flag)).toBe(false);
    } finally {
      await marker.cleanup();
    }
  });

  test("from notebook.toml ([env] and a cell's env) too, with the reason on the row; allowUnsafeNames opts in", async ({ dir, makePlugin }) => {
    await writeNotebook(dir, '[env]\nNODE_OPTIONS = "--require ./evil.js"\nPATH = "/tmp/evil-bin"\nOK = "1"\n\n[[cells]]\nid = "c"\nenv = { GIT_SSH_COMMAND = "sh -c evil", npm_config_script_shell = "/tmp/x" }\n');
    const env: Record<string, string> = { PATH: "/usr/bin" };
    const p = makePlugin({ env });
    await p.open();
    p.beforeCellRun({ id: "c" });
    expect(env).toEqual({ PATH: "/usr/bin", OK: "1" });
    expect(p.rows().filter((r) => r.refused).map((r) => r.key).sort()).toEqual(["NODE_OPTIONS", "PATH"]);
    p.afterCellRun({ id: "c" });
    const env2: Record<string, string> = {};
    const allowed = makePlugin({ env: env2, allowUnsafeNames: ["NODE_OPTIONS", "GIT_SSH_COMMAND"] });
    await allowed.open();
    allowed.beforeCellRun({ id: "c" });
    expect(env2).toMatchObject({ NODE_OPTIONS: "--require ./evil.js", GIT_SSH_COMMAND: "sh -c evil", OK: "1" });
    expect(env2["PATH"]).toBeUndefined();
  });

  test("the list covers sudo's unsafe variables and the issue's list", () => {
    for (const name of ["PYTHONSTARTUP", "PYTHONPATH", "PYTHONWARNINGS", "BROWSER", "PERL5OPT", "PERL5LIB", "RUBYOPT", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "GIT_SSH_COMMAND", "GIT_EXEC_PATH", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "PAGER", "EDITOR", "PROMPT_COMMAND", "ENV", "SHELLOPTS", "PS4", "IFS", "PATH", "NODE_PATH", "NODE_OPTIONS", "BASH_ENV", "CDPATH", "GLOBIGNORE"]) {
      expect(UNSAFE_NAMES, name).toContain(name);
    }
  });
});
