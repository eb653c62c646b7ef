import { readFile, writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { createSecretManagerPlugin } from "../plugin/index.js";
import { createInfisicalProvider } from "../plugin/providers/infisical.js";
import { test, WAIT } from "./cli-fixtures.js";
import { describe, expect } from "./fixtures.js";
import { CANARY, canariesIn, canaryFilesUnder, PROJECT, waitFor, writeNotebook } from "./helpers.js";

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
    expect(r.stdout).toContain("4 cell(s) ran, 1 failed; secrets loaded from INFISICAL");
    server.faults.hang = true;
    const down = await run(["run", dir, "--timeout", "500", "--keep-going"]);
    expect(down.code).toBe(3);
    expect(down.stdout).toContain("Fetch error:    The secret manager did not answer within 0.5s.");
    expect(down.stdout).toContain("4 cell(s) ran, 1 failed; secrets NOT loaded: The secret manager did not answer within 0.5s.");
    expect(canariesIn(r.stdout + r.stderr + down.stdout + down.stderr)).toEqual([]);
  });

  test.for([
    ["no credentials", { INFISICAL_CLIENT_ID: "", INFISICAL_CLIENT_SECRET: "" }, "", "No Infisical credentials"],
    ["wrong secret", { INFISICAL_CLIENT_SECRET: "wrong-secret-000" }, "", "Infisical authentication failed"],
    ["a config error", {}, "projet_id", "unknown key 'projet_id'"],
    ["a refused base_url", {}, "base_url", "Refused: [secret_manager].base_url"],
  ] as const)("run: exits 3 after running the cells when the secrets did not load (%s)", async ([, env, edit, message], { dir, run, demoNotebook, childEnv }) => {
    await demoNotebook();
    const file = join(dir, "notebook.toml");
    if (edit === "projet_id") await writeFile(file, (await readFile(file, "utf8")).replace("project_id", "projet_id"));
    if (edit === "base_url") await writeFile(file, (await readFile(file, "utf8")).replace('path = "/"', 'path = "/"\nbase_url = "https://elsewhere.example.test"'));
    const r = await run(["run", dir], childEnv(env));
    expect(r.code).toBe(3);
    expect(r.stdout).toContain("── oops (javascript) ──"); // the cells ran
    expect(r.stdout).toMatch(new RegExp(`3 cell\\(s\\) ran, all ok; secrets NOT loaded: .*${message.replace(/[[\].()]/g, "\\$&")}`));
  });

  test("run without [secret_manager] is not a failure; a JSON run carries the summary", async ({ dir, run, demoNotebook }) => {
    await demoNotebook();
    const file = join(dir, "notebook.toml");
    const text = await readFile(file, "utf8");
    await writeFile(file, text.slice(0, text.indexOf("[secret_manager]")) + text.slice(text.indexOf("[env]")));
    const r = await run(["run", dir, "--json"]);
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as { summary: string }).summary).toBe("3 cell(s) ran, all ok; no [secret_manager]");
  });

  test("run: an unknown [[cells]] key is a warning, not silence", async ({ dir, run, demoNotebook }) => {
    await demoNotebook('\n[[cells]]\nid = "extra"\nfile = "hello.js"\norder = 9\ntimeout = 5\n');
    const r = await run(["run", dir]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("strata-secrets: warning: notebook.toml: [[cells]] 'extra': 'timeout' ignored (known keys: id, file, language, order, env)");
  });

  test("clear usage errors: no notebook.toml, unknown flag, unknown command; --help", async ({ dir, run }) => {
    const missing = await run(["run", dir]);
    expect(missing).toMatchObject({ code: 2 });
    expect(missing.stderr).toContain("no notebook.toml in");
    await writeNotebook(dir, "");
    const flag = await run(["run", dir, "--nope"]);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toBe("strata-secrets: unknown option '--nope' for run (see 'strata-secrets run --help')\nSee 'strata-secrets --help'.\n");
    const noValue = await run(["run", dir, "--timeout"]);
    expect(noValue.stderr).toContain("option '--timeout' of run needs a value");
    const unknown = await run(["frobnicate"]);
    expect(unknown).toMatchObject({ code: 2, stderr: "strata-secrets: unknown command 'frobnicate' (run, watch, serve, dev-server, jupyter)\nSee 'strata-secrets --help'.\n" });
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("strata-secrets run <dir>");
    expect((await run(["run", "--help"])).stdout).toContain("--keep-going");
    expect((await run(["run", "--help"])).stdout).toContain(".strata/console/");
    const missingSecrets = await run(["dev-server", "--secrets", join(dir, "missing.toml")]);
    expect(missingSecrets).toMatchObject({ code: 1, stderr: `strata-secrets: cannot read ${join(dir, "missing.toml")}: no such file\n` });
    const nothing = await run(["jupyter", "uninstall", "--prefix", join(dir, "jp")]);
    expect(nothing).toMatchObject({ code: 0, stdout: `nothing to remove: no kernelspec at ${join(dir, "jp", "share", "jupyter", "kernels", "strata-ts")}\n` });
  });

  test("serve on a busy port exits 1 at once with one clear line, leaving nothing open", async ({ dir, start, demoNotebook }) => {
    await demoNotebook();
    const { createServer } = await import("node:net");
    const busy = createServer().listen(0, "127.0.0.1");
    await new Promise((r) => busy.once("listening", r));
    try {
      const port = (busy.address() as { port: number }).port;
      const s = start(["serve", dir, "--port", String(port)]);
      expect(await s.exit).toBe(1); // the process exits by itself: the plugin and its watcher were closed
      expect(s.err()).toBe(`strata-secrets: cannot serve the Runtime panel: 127.0.0.1:${port} is already in use (EADDRINUSE); pick another --port\n`);
      // In-process, the kernel side of serve: everything it opened (the plugin's watcher) is closed again.
      const { serveKernel } = await import("../kernel/runner/commands.js");
      const watchers = () => process.getActiveResourcesInfo().filter((r) => r === "FSEventWrap" || r === "StatWatcher").length;
      const before = watchers();
      const ctx = { send: () => undefined, stopped: new Promise<void>(() => undefined), onMasks: () => undefined };
      await expect(serveKernel({ command: "serve", dir, port, credentials: {}, color: false }, ctx)).rejects.toThrow("already in use (EADDRINUSE)");
      // (libuv releases a closed handle on a later turn of the loop.)
      await waitFor(() => watchers() === before, WAIT, "the watcher's handles to be released");
    } finally {
      busy.close();
    }
  });

  test("watch: prints reloads and fetches (names only) and closes cleanly on SIGINT", async ({ dir, start, demoNotebook }) => {
    await demoNotebook();
    const w = start(["watch", dir]);
    await waitFor(() => w.out().includes("watching "), WAIT, "watching");
    await writeFile(join(dir, "notebook.toml"), (await readFile(join(dir, "notebook.toml"), "utf8")).replace('path = "/"', 'path = "/app"'));
    await waitFor(() => w.out().includes("+APP_SECRET"), WAIT, "fetch line");
    expect(w.out()).toMatch(/reloaded notebook.toml \(\[secret_manager\] changed\)/);
    expect(w.out().split("reloaded notebook.toml")).toHaveLength(2); // no "reload" line at start-up
    expect(w.out()).toMatch(/fetched from INFISICAL: .*-API_HOST/);
    w.child.kill("SIGINT");
    expect(await w.exit).toBe(0);
    expect(w.out()).toContain("closed");
    expect(canariesIn(w.out() + w.err())).toEqual([]);
  });

  test("watch --run --rerun-stale re-runs exactly the cells that read the rotated key, in notebook order", async ({ server, dir, start, demoNotebook }) => {
    await demoNotebook();
    const w = start(["watch", dir, "--run", "--rerun-stale"]);
    await waitFor(() => w.out().includes("ran 3 cell(s): ok"), WAIT, "first run");
    server.store.setSecret(PROJECT, "dev", "/", "OPENAI_API_KEY", CANARY.rotated);
    // A saved [secret_manager] change makes the kernel fetch again (same path: only the rotation differs).
    await writeFile(join(dir, "notebook.toml"), (await readFile(join(dir, "notebook.toml"), "utf8")).replace('path = "/"', `path = "/"\nbase_url = "${server.url}"`));
    await waitFor(() => w.out().includes("ran 2 stale cell(s) (hello, oops): ok"), WAIT, "the stale cells re-run");
    expect(w.out()).toMatch(/stale: hello ran with an older OPENAI_API_KEY; oops ran with an older OPENAI_API_KEY/);
    w.child.kill("SIGTERM");
    expect(await w.exit).toBe(0);
    expect(w.out().match(/^ran \d+ /gm)).toHaveLength(2); // the first run and the stale re-run, nothing else
    expect(canariesIn(w.out() + w.err())).toEqual([]);
    const usage = start(["watch", dir, "--rerun-stale"]);
    expect(await usage.exit).toBe(2);
    expect(usage.err()).toContain("--rerun-stale needs --run");
  });

  test("what cells read is kept in .strata/provenance.json (names and versions, no values): a restarted watch knows which ran with a key rotated meanwhile", async ({ server, dir, run, start, demoNotebook }) => {
    await demoNotebook();
    expect((await run(["run", dir])).code).toBe(0);
    const kept = JSON.parse(await readFile(join(dir, ".strata", "provenance.json"), "utf8"));
    const v1 = { source: "infisical", version: "infisical@1" };
    expect(kept).toEqual({ version: 1, cells: { connect: { DATABASE_URL: v1 }, hello: { OPENAI_API_KEY: v1 }, oops: { OPENAI_API_KEY: v1 } } });
    server.store.setSecret(PROJECT, "dev", "/", "OPENAI_API_KEY", CANARY.rotated);
    const w = start(["watch", dir]);
    await waitFor(() => w.out().includes("watching"), WAIT, "watch to start");
    expect(w.out()).toMatch(/stale: hello ran with an older OPENAI_API_KEY; oops ran with an older OPENAI_API_KEY/);
    w.child.kill("SIGTERM");
    expect(await w.exit).toBe(0);
    expect(canariesIn(w.out() + w.err())).toEqual([]);
    expect(await canaryFilesUnder(dir)).toEqual([]);
    // A damaged file is a warning, not a failure, and is rewritten after the next cell.
    await writeFile(join(dir, ".strata", "provenance.json"), "{ not json");
    const again = await run(["run", dir]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("strata-secrets: warning: .strata/provenance.json is not valid JSON; ignored");
    expect(JSON.parse(await readFile(join(dir, ".strata", "provenance.json"), "utf8")).cells.hello.OPENAI_API_KEY.version).toBe("infisical@2");
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
    // The lines arrive in separate writes: wait for the last one before reading the block.
    await waitFor(() => d.out().includes("Ctrl-C"), WAIT, "the whole block");
    const line = d.out().split("\n").find((l) => l.startsWith("export "))!;
    const creds = Object.fromEntries(line.slice("export ".length).split(" ").map((kv) => kv.split("=") as [string, string]));
    expect(d.out()).toContain('project_id = "p-cli"');
    const provider = createInfisicalProvider();
    const result = await provider.fetch({ project_id: "p-cli" }, { signal: new AbortController().signal, timeoutMs: WAIT, credentials: creds, notebookDir: dir });
    await provider.close?.();
    expect(result).toMatchObject({ error: null, secrets: { FROM_FILE: "dev-server-file-value" } });
    d.child.kill("SIGINT");
    expect(await d.exit).toBe(0);
  });

  test.for(["vault", "aws", "doppler"] as const)("dev-server --provider %s: exports and a [secret_manager] table that a notebook can use as printed", async (provider, { dir, start }) => {
    await mkdir(dir, { recursive: true });
    const secrets = join(dir, "secrets.toml");
    await writeFile(secrets, `project_id = "p-cli"\n[secrets.dev."/"]\nFROM_FILE = "dev-server-file-value"\n`);
    const d = start(["dev-server", "--provider", provider, "--secrets", secrets], { PATH: process.env["PATH"], NO_COLOR: "1" });
    await waitFor(() => d.out().includes("Ctrl-C"), WAIT, "the exports and the [secret_manager] table");
    const line = d.out().split("\n").find((l) => l.startsWith("export "))!;
    const creds = Object.fromEntries(line.slice("export ".length).split(" ").map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
    const table = d.out().slice(d.out().indexOf("[secret_manager]"), d.out().indexOf("Ctrl-C"));
    await writeFile(join(dir, "notebook.toml"), `${table.replace(/ *#.*$/m, "")}\n`);
    const p = createSecretManagerPlugin({ notebookDir: dir, env: {}, watch: false, credentials: creds });
    try {
      await p.open();
      expect(p.status()).toMatchObject({ provider, error: null });
      expect(p.rows().map((r) => r.key)).toContain("FROM_FILE");
    } finally {
      await p.close();
    }
    d.child.kill("SIGINT");
    expect(await d.exit).toBe(0);
  });
});
