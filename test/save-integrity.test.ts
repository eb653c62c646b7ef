// Saves never destroy the user's data; the "a copy of a secret is a secret" rule applies to
// secrets only; retired values stay masked.
import { spawn } from "node:child_process";
import { appendFile, chmod, lstat, mkdir, readdir, readFile, stat, symlink, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { MASKED } from "../plugin/index.js";
import { describe, expect, test } from "./fixtures.js";
import { CANARY, notebookToml, PROJECT, waitFor, writeNotebook } from "./helpers.js";

const TOKEN_40 = "3f2a9c0e1b7d4a5f8e6c2b1a0d9f8e7c6b5a4d3e";

describe("saves never destroy the user's data", () => {
  test("ordinary [env] values equal to a fetched plain value stay on disk, shown and in the env", async ({ server, dir, makePlugin }) => {
    for (const [k, v] of [["FEATURE_FLAG", "1"], ["REGION", "us-east-1"], ["DEBUG_MODE", "true"], ["DB_PORT", "5432"], ["LOGGING", "info"], ["SERVICE_ID", TOKEN_40]]) server.store.setSecret(PROJECT, "dev", "/", k!, v!);
    await writeNotebook(dir, notebookToml({ env: 'VERBOSE = "1"\nAWS_REGION = "us-east-1"\nFLAG = "true"\nPORT = "5432"\nLEVEL = "info"\nCOPY_OF_TOKEN = ""' }));
    const env: Record<string, string> = {};
    const p = makePlugin({ env });
    await p.open();
    const masked = p.maskedEnv();
    expect(masked).toMatchObject({ VERBOSE: "1", AWS_REGION: "us-east-1", FLAG: "true", PORT: "5432", LEVEL: "info" });
    // An unrelated save (adds one variable) and a copy of the 40-character token.
    await p.saveEnv({ ...masked, NEW_ONE: "x", COPY_OF_TOKEN: TOKEN_40 });
    const text = await readFile(join(dir, "notebook.toml"), "utf8");
    expect(text).toContain('VERBOSE = "1"\nAWS_REGION = "us-east-1"\nFLAG = "true"\nPORT = "5432"\nLEVEL = "info"\nCOPY_OF_TOKEN = ""\nNEW_ONE = "x"');
    p.beforeCellRun({ id: "c" });
    expect(env).toMatchObject({ VERBOSE: "1", AWS_REGION: "us-east-1", FLAG: "true", PORT: "5432", LEVEL: "info", COPY_OF_TOKEN: TOKEN_40 });
    expect(p.maskedEnv()).toMatchObject({ VERBOSE: "1", AWS_REGION: "us-east-1", COPY_OF_TOKEN: MASKED });
    // Plain values are not masked in output; secrets (by name or by look) are.
    expect(p.maskOutput("flag=1 region=us-east-1 true 5432 info")).toBe("flag=1 region=us-east-1 true 5432 info");
    expect(p.maskOutput(`id=${TOKEN_40} key=${CANARY.openai}`)).toBe("id=*** key=***");
  });

  test("a sensitive value already on disk moves to memory on an unrelated save: the cell keeps it, the file gets the blank", async ({ dir, makePlugin }) => {
    const value = "ghp_diskTokenValue0123456789abcdefGHIJ";
    await writeNotebook(dir, `[env]\nLOG_LEVEL = "info"\nGITHUB_TOKEN = "${value}"\n`);
    const env: Record<string, string> = {};
    const p = makePlugin({ env });
    await p.open();
    expect(p.maskedEnv()["GITHUB_TOKEN"]).toBe(MASKED);
    await p.saveEnv({ ...p.maskedEnv(), EXTRA: "1" });
    expect(await readFile(join(dir, "notebook.toml"), "utf8")).toBe('[env]\nLOG_LEVEL = "info"\nGITHUB_TOKEN = ""\nEXTRA = "1"\n');
    p.beforeCellRun({ id: "c" });
    expect(env["GITHUB_TOKEN"]).toBe(value);
    expect(p.rows().find((r) => r.key === "GITHUB_TOKEN")).toMatchObject({ source: "manual", hidden: true });
    expect(p.maskOutput(value)).toBe("***");
  });

  test("a value that holds a fetched secret (trailing space, a DSN around the password) stays in memory and hidden", async ({ server, dir, makePlugin }) => {
    const password = "Pw-fetched-7Q2x9LmZ";
    server.store.setSecret(PROJECT, "dev", "/", "DB_PASSWORD", password);
    await writeNotebook(dir, notebookToml());
    const env: Record<string, string> = {};
    const p = makePlugin({ env });
    await p.open();
    await p.saveEnv({ ...p.maskedEnv(), APP_DSN: `postgres://app:${password}@db:5432/app`, PADDED: `${CANARY.openai} `, HOSTNAME_ONLY: "db.internal" });
    const text = await readFile(join(dir, "notebook.toml"), "utf8");
    expect(text).toContain('APP_DSN = ""');
    expect(text).toContain('PADDED = ""');
    expect(text).toContain('HOSTNAME_ONLY = "db.internal"');
    expect(text).not.toContain(password);
    expect(p.maskedEnv()).toMatchObject({ APP_DSN: MASKED, PADDED: MASKED, HOSTNAME_ONLY: "db.internal" });
    p.beforeCellRun({ id: "c" });
    expect(env["APP_DSN"]).toBe(`postgres://app:${password}@db:5432/app`);
  });

  test("rotation, disconnect and switching config never unmask an old value", async ({ server, dir, makePlugin }) => {
    await writeNotebook(dir, notebookToml());
    const p = makePlugin();
    await p.open();
    const old = CANARY.openai;
    const held = `an object built before: ${old}`;
    server.store.setSecret(PROJECT, "dev", "/", "OPENAI_API_KEY", CANARY.rotated);
    await p.refresh();
    expect(p.maskOutput(held)).toBe("an object built before: ***");
    await p.saveSecretManagerConfig({ provider: "infisical", project_id: PROJECT, path: "/app" });
    expect(p.maskOutput(`${old} ${CANARY.rotated} ${CANARY.db}`)).toBe("*** *** ***");
    await p.saveSecretManagerConfig(null);
    expect(p.rows().filter((r) => r.source === "infisical")).toEqual([]);
    expect(p.maskOutput(`${old} ${CANARY.rotated} ${CANARY.appSecret}`)).toBe("*** *** ***");
  });
});

describe("concurrent edits and stale views", () => {
  test("appends from this process while saves run: none is lost", async ({ dir, makePlugin }) => {
    const file = await writeNotebook(dir, '[env]\nA = "0"\n\n[appended]\n');
    const p = makePlugin();
    await p.open();
    // Two loops that interleave: one appends lines, one saves from the panel.
    const appender = (async () => {
      for (let i = 0; i < 200; i++) await appendFile(file, `k${i} = ${i}\n`);
    })();
    let saves = 0;
    const saver = (async () => {
      for (let round = 0; round < 10_000 && saves < 60; round++) await p.saveEnv({ A: String(++saves) });
    })();
    await Promise.all([appender, saver]);
    const text = await readFile(file, "utf8");
    const missing = Array.from({ length: 200 }, (_, i) => `k${i} = ${i}\n`).filter((line) => !text.includes(line));
    expect(missing).toEqual([]);
    expect(text).toMatch(/\[env\]\nA = "\d+"\n/);
  });

  test("a save based on an outdated view is refused with CONFLICT and changes nothing", async ({ dir, makePlugin }) => {
    const file = await writeNotebook(dir, '[env]\nA = "1"\n');
    const p = makePlugin({ watch: true });
    await p.open();
    const shown = p.envRevision();
    const view = p.maskedEnv();
    await writeFile(file, '[env]\nA = "1"\nTEAMMATE = "added on disk"\n');
    await waitFor(() => p.envRevision() !== shown, 15_000, "the teammate's edit to be read");
    await expect(p.saveEnv({ ...view, MINE: "x" }, { basedOn: shown })).rejects.toMatchObject({ code: "CONFLICT" });
    expect(await readFile(file, "utf8")).toBe('[env]\nA = "1"\nTEAMMATE = "added on disk"\n');
    await p.saveEnv({ ...p.maskedEnv(), MINE: "x" }, { basedOn: p.envRevision() });
    expect(await readFile(file, "utf8")).toBe('[env]\nA = "1"\nTEAMMATE = "added on disk"\nMINE = "x"\n');
  });
});

describe("the file itself", () => {
  test("a symlinked notebook.toml stays a symlink; its target gets the change, with its exact mode", async ({ dir, makePlugin }) => {
    const real = join(dir, "real");
    await mkdir(real);
    await writeFile(join(real, "notebook.toml"), '[env]\nA = "1"\n', { mode: 0o666 });
    await chmod(join(real, "notebook.toml"), 0o666);
    await symlink(join(real, "notebook.toml"), join(dir, "notebook.toml"));
    const p = makePlugin();
    await p.open();
    await p.saveEnv({ A: "2" });
    expect((await lstat(join(dir, "notebook.toml"))).isSymbolicLink()).toBe(true);
    expect(await readFile(join(real, "notebook.toml"), "utf8")).toBe('[env]\nA = "2"\n');
    expect((await stat(join(real, "notebook.toml"))).mode & 0o777).toBe(0o666);
  });

  test.for([0o664, 0o600, 0o640])("the file mode %o is kept exactly", async (mode, { dir, makePlugin }) => {
    const file = await writeNotebook(dir, '[env]\nA = "1"\n');
    await chmod(file, mode);
    const p = makePlugin();
    await p.open();
    await p.saveEnv({ A: "2" });
    expect((await stat(file)).mode & 0o777).toBe(mode);
  });

  test("a UTF-8 byte order mark is kept and saving works", async ({ dir, makePlugin }) => {
    const file = await writeNotebook(dir, '\uFEFF[env]\nA = "1"\n');
    const p = makePlugin();
    await p.open();
    expect(p.status().configError).toBeNull();
    await p.saveEnv({ A: "2", B: "3" });
    expect(await readFile(file, "utf8")).toBe('\uFEFF[env]\nA = "2"\nB = "3"\n');
  });

  test("a file that is not valid UTF-8 is refused with a clear error and left byte for byte", async ({ dir, makePlugin }) => {
    const file = join(dir, "notebook.toml");
    const bytes = Buffer.concat([Buffer.from('[env]\nA = "caf'), Buffer.from([0xe9]), Buffer.from('"\n')]);
    await writeFile(file, bytes);
    const p = makePlugin();
    await p.open();
    expect(p.status().configError).toBe("notebook.toml is not valid UTF-8 (byte 14): save it as UTF-8; nothing was changed; keeping the last good configuration");
    await expect(p.saveEnv({ A: "x" })).rejects.toMatchObject({ code: "INVALID_CONFIG", message: "notebook.toml is not valid UTF-8 (byte 14): save it as UTF-8; nothing was changed" });
    expect((await readFile(file)).equals(bytes)).toBe(true);
  });

  test("temp files left by a killed save are removed at the next open", async ({ dir, makePlugin }) => {
    await writeNotebook(dir, '[env]\nA = "1"\n');
    const stale = join(dir, ".notebook.toml.0123456789ab.tmp");
    await writeFile(stale, "half a save");
    const old = new Date(Date.now() - 60_000);
    await utimes(stale, old, old);
    const other = join(dir, ".other.toml.0123456789ab.tmp");
    await writeFile(other, "not ours");
    await makePlugin().open();
    expect((await readdir(dir)).sort()).toEqual([".other.toml.0123456789ab.tmp", "notebook.toml"]);
  });
});

describe("against another process", () => {
  test("a process appending to notebook.toml while the panel saves loses nothing", async ({ dir, makePlugin }) => {
    const file = await writeNotebook(dir, '[env]\nA = "0"\n\n[appended]\n');
    const p = makePlugin();
    await p.open();
    const script = `const fs = require("fs"); (async () => { for (let i = 0; i < 200; i++) { fs.appendFileSync(${JSON.stringify(file)}, "k" + i + " = " + i + "\\n"); await new Promise((r) => setTimeout(r, 1 + Math.random() * 3)); } })();`;
    const child = spawn(process.execPath, ["-e", script], { stdio: "ignore" });
    const exited = new Promise((resolve) => child.on("exit", resolve));
    let running = true;
    void exited.then(() => (running = false));
    let saves = 0;
    while (running) await p.saveEnv({ A: String(++saves) });
    await exited;
    const text = await readFile(file, "utf8");
    expect(Array.from({ length: 200 }, (_, i) => `k${i} = ${i}\n`).filter((line) => !text.includes(line))).toEqual([]);
    expect(saves).toBeGreaterThan(1);
  });
});
