// The files provider against real files in temp dirs and real chokidar: the Kubernetes
// atomic writer's exact layout and swap sequence, the agents' write styles, and what can go
// wrong with files. Plus refresh_interval for API providers.
import { chmod, mkdir, readdir, readlink, rename, rm, symlink, writeFile } from "node:fs/promises";
import { execFile } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { describe, expect, test as base } from "./fixtures.js";
import { ROOT } from "./cli-fixtures.js";
import { CANARY, notebookToml, PROJECT, tempDir, waitFor } from "./helpers.js";

/**
 * Kubernetes' AtomicWriter (pkg/volume/util/atomic_writer.go), step by step: a new
 * timestamped directory with the payload, `..data_tmp` -> it, rename over `..data`, the
 * user-visible symlinks `KEY -> ..data/KEY` (new keys only; removed keys' links go), then
 * the old timestamped directory is removed.
 */
async function atomicWrite(dir: string, payload: Record<string, string>, between?: () => Promise<void>): Promise<void> {
  await mkdir(dir, { recursive: true });
  const stamp = `..${new Date().toISOString().replace(/[-:T]/g, "_").replace(/\..*$/, "")}.${process.hrtime.bigint() % 1_000_000_000n}`;
  const fresh = join(dir, stamp);
  await mkdir(fresh);
  for (const [key, value] of Object.entries(payload)) await writeFile(join(fresh, key), value);
  const entries = await readdir(dir);
  const previous = entries.includes("..data") ? await readlink(join(dir, "..data")) : null;
  await symlink(stamp, join(dir, "..data_tmp"));
  await between?.();
  await rename(join(dir, "..data_tmp"), join(dir, "..data"));
  for (const key of Object.keys(payload)) if (!entries.includes(key)) await symlink(join("..data", key), join(dir, key));
  for (const e of entries) if (!e.startsWith(".") && !(e in payload)) await rm(join(dir, e));
  if (previous) await rm(join(dir, previous), { recursive: true, force: true });
}

/** `volumes`: where the agent/operator files live, outside the notebook (whose files are swept for canaries). */
const test = base.extend<{ volumes: string }>({
  volumes: async ({}, use) => {
    const { dir, cleanup } = await tempDir("strata-volumes-");
    try {
      await use(dir);
    } finally {
      await cleanup();
    }
  },
});

/** A relative path also works (resolved against the notebook directory). */
const filesNotebook = (path: string, extra = "") => `[secret_manager]\nprovider = "files"\npath = "${path}"\n${extra}\n[env]\nLOG_LEVEL = "info"\n`;

function cellReader(p: { beforeCellRun(c: { id: string }): void; afterCellRun(c: { id: string }): void }, env: Record<string, string | undefined>) {
  return <T>(read: (e: Record<string, string | undefined>) => T): T => {
    p.beforeCellRun({ id: "c" });
    try {
      return read(env);
    } finally {
      p.afterCellRun({ id: "c" });
    }
  };
}

describe("files provider", () => {
  test("a Kubernetes Secret volume: one variable per key, hidden entries skipped, bad names refused, one trailing newline dropped, badge FILES", async ({ dir, makePlugin, volumes }) => {
    const vol = join(volumes, "secret-volume");
    await atomicWrite(vol, { API_KEY: `${CANARY.openai}\n`, "db.password": "x", PEM: "-----BEGIN-----\nabc\n-----END-----\n\n" });
    await writeFile(join(dir, "notebook.toml"), filesNotebook(vol));
    const env: Record<string, string | undefined> = {};
    const p = makePlugin({ env });
    await p.open();
    expect(p.status()).toMatchObject({ provider: "files", error: null });
    const cell = cellReader(p, env);
    expect(cell((e) => e["API_KEY"])).toBe(CANARY.openai);
    expect(cell((e) => e["PEM"])).toBe("-----BEGIN-----\nabc\n-----END-----\n");
    const rows = Object.fromEntries(p.rows().map((r) => [r.key, r]));
    expect(rows["API_KEY"]).toMatchObject({ source: "files", hidden: true });
    expect(rows["db.password"]?.refused).toMatch(/not a valid environment variable name/);
    expect(Object.keys(rows).some((k) => k.startsWith(".."))).toBe(false);
    expect(p.maskOutput(CANARY.openai)).toBe("***");
  });

  test("the exact atomic swap: the next cell has the new values with no Refresh and no request; old and new files never mix", async ({ server, dir, makePlugin }) => {
    const vol = join(dir, "vol");
    await atomicWrite(vol, { A: "old-a", B: "old-b" });
    await writeFile(join(dir, "notebook.toml"), filesNotebook(vol));
    const env: Record<string, string | undefined> = {};
    const p = makePlugin({ env });
    await p.open();
    const cell = cellReader(p, env);
    const seen = new Set<string>();
    let watching = true;
    const observer = (async () => {
      while (watching) {
        seen.add(cell((e) => `${e["A"]}|${e["B"]}`));
        await new Promise((r) => setImmediate(r));
      }
    })();
    const requestsBefore = server.requests.length;
    await atomicWrite(vol, { A: "new-a", B: "new-b" }, async () => {
      // Between linking ..data_tmp and the rename: the old values still hold.
      await new Promise((r) => setTimeout(r, 30));
    });
    await waitFor(() => cell((e) => e["A"] === "new-a"), 10_000, "the swapped values");
    watching = false;
    await observer;
    expect([...seen].every((s) => s === "old-a|old-b" || s === "new-a|new-b")).toBe(true);
    expect(server.requests.length).toBe(requestsBefore);
    // A key removed by the next swap leaves the env.
    await atomicWrite(vol, { A: "newer-a" });
    await waitFor(() => cell((e) => e["A"] === "newer-a" && e["B"] === undefined), 10_000, "the removed key gone");
  });

  test("agent write styles: a dotenv file rewritten in place, replaced by temp + rename; a JSON file", async ({ dir, makePlugin, volumes }) => {
    const file = join(volumes, "agent.env");
    await writeFile(file, `# rendered by the agent\nDB_PASSWORD="${CANARY.db}"\nexport PORT=5432\n`);
    await writeFile(join(dir, "notebook.toml"), filesNotebook(file));
    const env: Record<string, string | undefined> = {};
    const p = makePlugin({ env });
    await p.open();
    const cell = cellReader(p, env);
    expect(cell((e) => [e["DB_PASSWORD"], e["PORT"]])).toEqual([CANARY.db, "5432"]);
    await writeFile(file, `DB_PASSWORD=${CANARY.rotated}\n`);
    await waitFor(() => cell((e) => e["DB_PASSWORD"] === CANARY.rotated), 10_000, "in-place rewrite");
    await writeFile(join(volumes, ".agent.env.tmp"), "DB_PASSWORD=after-rename\n");
    await rename(join(volumes, ".agent.env.tmp"), file);
    await waitFor(() => cell((e) => e["DB_PASSWORD"] === "after-rename"), 10_000, "temp + rename");
    const json = join(volumes, "secrets.json");
    await writeFile(json, JSON.stringify({ TOKEN: CANARY.appSecret, N: 3, NESTED: { x: 1 } }));
    await p.saveSecretManagerConfig({ provider: "files", path: json });
    expect(cell((e) => [e["TOKEN"], e["N"]])).toEqual([CANARY.appSecret, "3"]);
    expect(p.rows().find((r) => r.key === "NESTED")?.refused).toMatch(/holds an object/);
    await writeFile(json, "{ not json");
    await waitFor(() => /is not valid JSON/.test(p.status().error ?? ""), 10_000, "the JSON error");
    expect(cell((e) => e["TOKEN"])).toBe(CANARY.appSecret); // last good values stay
  });

  test("a directory missing at open is an error, then read as soon as it appears", async ({ dir, makePlugin }) => {
    await writeFile(join(dir, "notebook.toml"), filesNotebook("later"));
    const env: Record<string, string | undefined> = {};
    const p = makePlugin({ env });
    await p.open();
    expect(p.status().error).toMatch(/^Files read failed: .*later does not exist \(ENOENT\); it is read as soon as it appears$/);
    await atomicWrite(join(dir, "later"), { APPEARED: "yes" });
    const cell = cellReader(p, env);
    await waitFor(() => cell((e) => e["APPEARED"] === "yes"), 10_000, "the directory appearing");
    expect(p.status().error).toBeNull();
  });

  test("a file replaced by a directory, a huge file, a non-UTF-8 file are refused on their rows; too many files is an error", async ({ dir, makePlugin }) => {
    const vol = join(dir, "plain");
    await mkdir(join(vol, "NOW_A_DIR"), { recursive: true });
    await writeFile(join(vol, "HUGE"), Buffer.alloc(2 * 1024 * 1024, 97));
    await writeFile(join(vol, "BINARY"), Buffer.from([0xff, 0xfe, 0x00]));
    await writeFile(join(vol, "OK"), "fine");
    await writeFile(join(dir, "notebook.toml"), filesNotebook("plain"));
    const p = makePlugin();
    await p.open();
    const rows = Object.fromEntries(p.rows().map((r) => [r.key, r]));
    expect(rows["NOW_A_DIR"]?.refused).toBe("is a directory, not a file");
    expect(rows["HUGE"]?.refused).toBe("the file is larger than 1048576 bytes");
    expect(rows["BINARY"]?.refused).toBe("the file is not UTF-8 text");
    expect(rows["OK"]?.refused).toBeUndefined();
    const many = join(dir, "many");
    await mkdir(many);
    for (let i = 0; i < 1001; i++) await writeFile(join(many, `K${i}`), "v");
    await p.saveSecretManagerConfig({ provider: "files", path: "many" });
    expect(p.status().error).toMatch(/holds 1001 entries, more than the 1000 allowed$/);
  });

  test("permission denied on the directory is a clear error (as root: checked in a child running as nobody, since root reads anything)", async ({ dir, makePlugin }) => {
    const vol = join(dir, "locked");
    await atomicWrite(vol, { A: "1" });
    await writeFile(join(dir, "notebook.toml"), filesNotebook("locked"));
    await chmod(vol, 0o000);
    try {
      let error: string | null;
      if (process.getuid?.() !== 0) {
        const p = makePlugin();
        await p.open();
        error = p.status().error;
      } else {
        // The same plugin in a process without root's override. The checkout may sit where
        // nobody cannot reach it (a 0700 temp dir), so the plugin goes along as one bundled
        // file inside this test's own directory.
        await chmod(dir, 0o755);
        const { build } = await import("esbuild");
        const bundle = join(dir, "plugin.bundle.mjs");
        await build({ entryPoints: [join(ROOT, "plugin", "index.ts")], outfile: bundle, bundle: true, format: "esm", platform: "node", target: "node20", external: ["@aws-sdk/*", "@smithy/*", "esbuild"], logLevel: "silent" });
        const script = `const { createSecretManagerPlugin } = await import(${JSON.stringify(pathToFileURL(bundle).href)});
          const p = createSecretManagerPlugin({ notebookDir: ${JSON.stringify(dir)}, env: {}, credentials: {}, watch: false });
          await p.open(); process.stdout.write(JSON.stringify(p.status().error)); await p.close();`;
        const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], { cwd: dir, uid: 65534, gid: 65534, env: { PATH: process.env["PATH"], HOME: tmpdir() }, timeout: 60_000 });
        error = JSON.parse(stdout) as string | null;
      }
      expect(error).toMatch(/^Files read failed: permission denied on .*locked \(EACCES\)$/);
    } finally {
      await chmod(vol, 0o755);
      await chmod(dir, 0o700);
    }
  });
});

describe("refresh_interval", () => {
  test("a rotation in the manager lands without Refresh within one interval; the event names the key", async ({ server, dir, makePlugin, events }) => {
    await writeFile(join(dir, "notebook.toml"), notebookToml({ extra: "" }).replace('path = "/"', 'path = "/"\nrefresh_interval = "1s"'));
    const env: Record<string, string | undefined> = {};
    const p = makePlugin({ env, minRefreshIntervalMs: 500 });
    await p.open();
    expect(p.secretManagerConfig()).toMatchObject({ refresh_interval: "1s" });
    const cell = cellReader(p, env);
    expect(cell((e) => e["OPENAI_API_KEY"])).toBe(CANARY.openai);
    const rotatedAt = Date.now();
    server.store.setSecret(PROJECT, "dev", "/", "OPENAI_API_KEY", CANARY.rotated);
    await waitFor(() => cell((e) => e["OPENAI_API_KEY"] === CANARY.rotated), 10_000, "the rotated key");
    expect(Date.now() - rotatedAt).toBeLessThan(1_100 + 2_000); // one interval (+10% jitter) + a loaded machine
    expect(events.some((e) => e.type === "secrets-fetched" && e.changed.includes("OPENAI_API_KEY"))).toBe(true);
  });

  test("backs off while the manager fails; a refresh_interval under the minimum is a config error", async ({ server, dir, makePlugin }) => {
    await writeFile(join(dir, "notebook.toml"), notebookToml().replace('path = "/"', 'path = "/"\nrefresh_interval = "1s"'));
    const p = makePlugin({ minRefreshIntervalMs: 200, fetchTimeoutMs: 5_000 });
    await p.open();
    await p.saveSecretManagerConfig({ ...p.secretManagerConfig(), refresh_interval: "1s" });
    const healthy = server.lists();
    await new Promise((r) => setTimeout(r, 4_500)); // observing a rate over time, not waiting for an event
    const healthyRate = server.lists() - healthy;
    server.faults.failNext = { count: 1_000, status: 400 };
    const failing = server.lists();
    await new Promise((r) => setTimeout(r, 4_500));
    const failingRate = server.lists() - failing;
    server.resetFaults();
    expect(healthyRate).toBeGreaterThanOrEqual(2);
    expect(failingRate).toBeLessThan(healthyRate);
    const q = makePlugin();
    await q.open();
    expect(q.status().configError).toBe("[secret_manager].refresh_interval: must be at least 30s");
    await expect(q.saveSecretManagerConfig({ provider: "infisical", project_id: PROJECT, refresh_interval: "10s" })).rejects.toMatchObject({ message: "saveSecretManagerConfig.refresh_interval: must be at least 30s" });
    await expect(q.saveSecretManagerConfig({ provider: "infisical", project_id: PROJECT, refresh_interval: "soon" })).rejects.toMatchObject({ message: 'saveSecretManagerConfig.refresh_interval: must be a duration such as "30s", "5m" or "1h"' });
  });
});
