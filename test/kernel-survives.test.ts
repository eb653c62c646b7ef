// The command line's kernel under attack: stray failures, writes past process.stdout, the
// kernel's own credentials, shutdown with leftovers. Canary values must never come out.
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test, WAIT } from "./cli-fixtures.js";
import { describe, expect } from "./fixtures.js";
import { canariesIn, waitFor } from "./helpers.js";

/** Cells that leave failures behind which, unhandled, end a Node process. */
const STRAY = [
  'Promise.reject(new Error("rejected with " + process.env.OPENAI_API_KEY));',
  'setTimeout(() => { throw new Error("timer threw with " + process.env.DATABASE_URL); }, 5);',
  "await new Promise((r) => setTimeout(r, 100));",
  'console.log("stray cell done");',
].join("\n");

/** Every way to write that skips process.stdout/stderr.write. */
const BYPASS = [
  'import { writeSync } from "node:fs";',
  'import { execSync, spawnSync } from "node:child_process";',
  'writeSync(1, "fd1 " + process.env.OPENAI_API_KEY + "\\n");',
  'writeSync(2, "fd2 " + Buffer.from(process.env.DATABASE_URL).toString("base64") + "\\n");',
  'process._rawDebug("rawDebug " + process.env.OPENAI_API_KEY);',
  'execSync("printenv OPENAI_API_KEY", { stdio: "inherit" });',
  'spawnSync("sh", ["-c", "echo child $DATABASE_URL >&2"], { stdio: "inherit" });',
  // The kernel's credentials: its own initial environment, and the supervisor's.
  'spawnSync("sh", ["-c", `tr "\\\\0" "\\\\n" < /proc/${process.pid}/environ; tr "\\\\0" "\\\\n" < /proc/${process.ppid}/environ`], { stdio: "inherit" });',
  'writeSync(1, (process.env.INFISICAL_CLIENT_SECRET ?? "no client secret in this env") + "\\n");',
].join("\n");

describe("the CLI kernel survives its cells and masks every output path", () => {
  test("run: stray rejections and throwing timers are late errors of their cell, masked; the next cells run", async ({ dir, run, demoNotebook }) => {
    await demoNotebook('\n[[cells]]\nid = "stray"\nfile = "stray.js"\norder = 0\n');
    await writeFile(join(dir, "cells", "stray.js"), STRAY);
    const r = await run(["run", dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("stray cell done");
    expect(r.stderr).toContain('[kernel] late error from cell "stray" (the kernel keeps running): Error: rejected with ***');
    expect(r.stderr).toContain('[kernel] late error from cell "stray" (the kernel keeps running): Error: timer threw with ***');
    expect(r.stdout).toContain("4 cell(s) ran, all ok (2 late error(s) reported); secrets loaded from INFISICAL");
    expect(JSON.parse(await readFile(join(dir, ".strata", "console", "stray.json"), "utf8")).stderr).toContain("rejected with ***");
    expect(canariesIn(r.stdout + r.stderr)).toEqual([]);
  });

  test("run: output that skips process.stdout (fd writes, _rawDebug, inherited stdio, /proc environ) is masked", async ({ dir, run, demoNotebook }) => {
    await demoNotebook('\n[[cells]]\nid = "bypass"\nfile = "bypass.mjs"\norder = 0\n');
    await writeFile(join(dir, "cells", "bypass.mjs"), BYPASS);
    const r = await run(["run", dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("fd1 ***");
    expect(r.stderr).toContain("fd2 ***");
    expect(r.stderr).toContain("rawDebug ***");
    expect(r.stderr).toContain("child ***");
    expect(r.stdout).toContain("INFISICAL_CLIENT_SECRET=***"); // the supervisor's environ, read by a grandchild
    expect(r.stdout).toContain("no client secret in this env"); // never in the kernel process's env
    expect(canariesIn(r.stdout + r.stderr)).toEqual([]);
  });

  test("run ends the process when the cells are done: a leftover interval can neither keep it nor print in clear", async ({ dir, start, demoNotebook }) => {
    await demoNotebook('\n[[cells]]\nid = "leftover"\nfile = "leftover.js"\norder = 9\n');
    await writeFile(join(dir, "cells", "leftover.js"), 'setInterval(() => console.log("tick " + process.env.OPENAI_API_KEY + " " + (process.env.INFISICAL_CLIENT_SECRET ?? "-")), 20);\nawait new Promise((r) => setTimeout(r, 50));\n');
    const p = start(["run", dir]);
    expect(await p.exit).toBe(0); // an interval would keep a Node process alive forever
    expect(p.out()).toContain("tick *** -");
    expect(canariesIn(p.out() + p.err())).toEqual([]);
  });

  test("watch --run: a stray failure does not stop it; Ctrl-C exits right after closing, never unmasked", async ({ dir, start, demoNotebook }) => {
    await demoNotebook('\n[[cells]]\nid = "stray"\nfile = "stray.js"\norder = 0\n[[cells]]\nid = "ticker"\nfile = "ticker.js"\norder = 9\n');
    await writeFile(join(dir, "cells", "stray.js"), STRAY);
    await writeFile(join(dir, "cells", "ticker.js"), 'setInterval(() => console.log("tick " + process.env.OPENAI_API_KEY), 10);\n');
    const w = start(["watch", dir, "--run"]);
    await waitFor(() => w.out().includes("ran 5 cell(s): ok") && w.out().includes("tick ***"), WAIT, "a run with the stray cell, and ticks");
    await writeFile(join(dir, "notebook.toml"), (await readFile(join(dir, "notebook.toml"), "utf8")).replace('LOG_LEVEL = "info"', 'LOG_LEVEL = "warn"'));
    await waitFor(() => w.out().split("ran 5 cell(s): ok").length === 3, WAIT, "a second run: the kernel survived");
    w.child.kill("SIGINT");
    expect(await w.exit).toBe(0);
    expect(w.out()).toContain("closed");
    expect(w.out().slice(w.out().indexOf("closed"))).not.toContain("tick"); // nothing after closing
    expect(canariesIn(w.out() + w.err())).toEqual([]);
  });

  test("serve: a stray failure in Run all does not kill the panel", async ({ dir, start, demoNotebook, seen }) => {
    await demoNotebook('\n[[cells]]\nid = "stray"\nfile = "stray.js"\norder = 0\n');
    await writeFile(join(dir, "cells", "stray.js"), STRAY);
    const s = start(["serve", dir]);
    const url = new URL(await waitFor(() => /Runtime panel: (\S+)/.exec(s.out())?.[1], WAIT, "panel URL"));
    const auth = { authorization: `Bearer ${url.searchParams.get("token")}` };
    const ran = await fetch(`${url.origin}/api/run`, { method: "POST", headers: auth });
    expect(ran.status).toBe(200);
    const body = await ran.text();
    seen.push(body);
    expect(body).toContain("late error from cell"); // both fired while the cell ran
    expect((await fetch(`${url.origin}/api/state`, { headers: auth })).status).toBe(200);
    s.child.kill("SIGTERM");
    expect(await s.exit).toBe(0);
    expect(canariesIn(s.out() + s.err())).toEqual([]);
  });
});
