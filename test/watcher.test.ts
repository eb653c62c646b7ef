import { execFileSync, spawn } from "node:child_process";
import { appendFile, readFile, rename, rm, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { InfisicalServer } from "../fixtures/infisical-server/index.js";
import { createSecretManagerPlugin, type PluginEvent, type SecretManagerPlugin } from "../plugin/index.js";
import { CANARY, canariesIn, canaryFilesUnder, identityCredentials, notebookToml, PROJECT, startFixture, tempDir, waitFor, writeNotebook } from "./helpers.js";

for (const usePolling of [false, true]) {
  describe(`watching notebook.toml (${usePolling ? "polling" : "native events"})`, () => {
    let server: InfisicalServer;
    let dir: string;
    let file: string;
    let cleanup: () => Promise<void>;
    let events: PluginEvent[];
    let plugin: SecretManagerPlugin;
    let env: Record<string, string>;

    beforeEach(async () => {
      server = await startFixture();
      ({ dir, cleanup } = await tempDir());
      file = await writeNotebook(dir, notebookToml());
      events = [];
      env = {};
      plugin = createSecretManagerPlugin({
        notebookDir: dir,
        env,
        credentials: identityCredentials(server),
        watch: { usePolling, interval: 25 },
        fetchTimeoutMs: 5_000,
        onEvent: (e) => events.push(e),
      });
      await plugin.open();
    });
    afterEach(async () => {
      await plugin.close();
      expect(canariesIn(events)).toEqual([]);
      expect(canariesIn(plugin.rows())).toEqual([]);
      expect(await canaryFilesUnder(dir)).toEqual([]);
      await server.close();
      await cleanup();
    });

    const lists = () => server.lists();
    const fetchedPaths = () => events.filter((e) => e.type === "secrets-fetched").length;
    const current = () => {
      plugin.beforeCellRun({ id: "x" });
      return env;
    };
    /** Waits until a write is surely handled: the plugin re-merged `[env]` to `marker`. */
    const settled = (marker: string) => waitFor(() => current()["MARK"] === marker, 5_000, `MARK=${marker}`);

    it("in-place write of [secret_manager] -> one list request and the new values", async () => {
      const before = lists();
      await writeFile(file, notebookToml({ path: "/app" }));
      await waitFor(() => current()["APP_SECRET"] === CANARY.appSecret, 5_000, "APP_SECRET");
      expect(current()["DATABASE_URL"]).toBeUndefined();
      await writeFile(file, notebookToml({ path: "/app", env: 'MARK = "1"' }));
      await settled("1");
      expect(lists() - before).toBe(1);
      expect(events.some((e) => e.type === "config-reloaded" && e.secretManagerChanged)).toBe(true);
    });

    it("write-temp-then-rename (vim, VS Code, JetBrains) is seen", async () => {
      const before = lists();
      const temp = join(dir, ".notebook.toml.swp");
      await writeFile(temp, notebookToml({ path: "/app" }));
      await rename(temp, file);
      await waitFor(() => current()["APP_SECRET"] === CANARY.appSecret, 5_000, "APP_SECRET");
      expect(lists() - before).toBe(1);
    });

    it("git checkout of another branch is seen", async () => {
      const git = (...args: string[]) => execFileSync("git", ["-c", "user.email=t@example.test", "-c", "user.name=t", ...args], { cwd: dir, stdio: "pipe" });
      git("init", "-q", "-b", "main");
      git("add", "notebook.toml");
      git("commit", "-qm", "root");
      git("checkout", "-qb", "app");
      await writeFile(file, notebookToml({ path: "/app" }));
      git("commit", "-qam", "app");
      await waitFor(() => current()["APP_SECRET"] === CANARY.appSecret, 5_000, "APP_SECRET on branch app");
      git("checkout", "-q", "main");
      await waitFor(() => current()["DATABASE_URL"] === CANARY.db && current()["APP_SECRET"] === undefined, 5_000, "root values after checkout");
    });

    it("delete then re-create keeps the last config in between and reloads after", async () => {
      await rm(file);
      await waitFor(() => plugin.status().configError?.includes("deleted"), 5_000, "deleted error");
      expect(current()["OPENAI_API_KEY"]).toBe(CANARY.openai);
      await writeFile(file, notebookToml({ path: "/app" }));
      await waitFor(() => current()["APP_SECRET"] === CANARY.appSecret, 5_000, "APP_SECRET");
      expect(plugin.status().configError).toBeNull();
    });

    it("an [env]-only change re-merges without asking the manager", async () => {
      const before = lists();
      await writeFile(file, notebookToml({ env: 'LOG_LEVEL = "debug"\nOPENAI_API_KEY = ""\nMARK = "e"' }));
      await settled("e");
      expect(current()["LOG_LEVEL"]).toBe("debug");
      expect(lists() - before).toBe(0);
    });

    it("a comment-only change or a touch does nothing", async () => {
      const before = lists();
      const reloads = events.filter((e) => e.type === "config-reloaded").length;
      await appendFile(file, "\n# just a comment\n");
      const now = new Date();
      await utimes(file, now, now);
      await writeFile(file, notebookToml({ env: 'LOG_LEVEL = "info"\nOPENAI_API_KEY = ""\nMARK = "c"' }));
      await settled("c");
      expect(lists() - before).toBe(0);
      expect(events.filter((e) => e.type === "config-reloaded").length - reloads).toBe(1);
    });

    it("the plugin's own writes cause no fetch and no loop", async () => {
      const before = lists();
      const reloads = events.filter((e) => e.type === "config-reloaded").length;
      await plugin.saveEnv({ ...plugin.maskedEnv(), MARK: "own" });
      await settled("own");
      await writeFile(file, (await readFile(file, "utf8")).replace('MARK = "own"', 'MARK = "after"'));
      await settled("after");
      expect(lists() - before).toBe(0);
      // Only the external edit is a reload; the plugin's own write is not seen as one.
      expect(events.filter((e) => e.type === "config-reloaded").length - reloads).toBe(1);
    });

    it("20 saves in 200 ms -> at most 2 fetches, final values from the last save", async () => {
      const before = lists();
      for (let i = 0; i < 20; i++) {
        const last = i === 19;
        await writeFile(file, notebookToml({ path: last ? "/app" : `/p${i}`, env: `MARK = "${i}"` }));
        await new Promise((r) => setTimeout(r, 10));
      }
      await settled("19");
      await waitFor(() => current()["APP_SECRET"] === CANARY.appSecret && !plugin.status().fetching, 5_000, "last save's values");
      expect(lists() - before).toBeLessThanOrEqual(2);
      expect(lists() - before).toBeGreaterThanOrEqual(1);
      expect(current()["DATABASE_URL"]).toBeUndefined();
    });

    it("invalid TOML keeps the last good values and shows the error, then recovers", async () => {
      const before = lists();
      await writeFile(file, `[secret_manager\nprovider = "infisical"\n[env]\nOPENAI_API_KEY = "${CANARY.openai}"\n`);
      await waitFor(() => plugin.status().configError?.startsWith("notebook.toml is not valid TOML"), 5_000, "config error");
      expect(events.some((e) => e.type === "config-invalid")).toBe(true);
      expect(current()["OPENAI_API_KEY"]).toBe(CANARY.openai);
      expect(plugin.rows().find((r) => r.key === "DATABASE_URL")?.source).toBe("infisical");
      await writeFile(file, notebookToml({ env: 'MARK = "ok"' }));
      await settled("ok");
      expect(plugin.status().configError).toBeNull();
      expect(lists() - before).toBe(0);
    });

    it("a wrong schema keeps the last good [secret_manager] and names the key", async () => {
      await writeFile(file, notebookToml({ env: 'MARK = "s"' }).replace("project_id", "projet_id"));
      await settled("s");
      expect(plugin.status().configError).toMatch(/projet_id/);
      expect(current()["OPENAI_API_KEY"]).toBe(CANARY.openai);
    });

    it("an emptied file is treated as mid-write, then as an error; the config stays", async () => {
      await writeFile(file, "");
      await waitFor(() => plugin.status().configError?.includes("empty"), 5_000, "empty error");
      expect(current()["OPENAI_API_KEY"]).toBe(CANARY.openai);
    });

    it("a change while a slow fetch is in flight ends with the newest config's values", async () => {
      server.faults.latencyMs = 300;
      await writeFile(file, notebookToml({ path: "/app" }));
      await waitFor(() => plugin.status().fetching, 5_000, "fetch in flight");
      await writeFile(file, notebookToml({ environment: "prod" }));
      await waitFor(() => current()["ONLY_PROD"] === "prod-only" && !plugin.status().fetching, 10_000, "prod values");
      expect(current()["APP_SECRET"]).toBeUndefined();
      expect(current()["OPENAI_API_KEY"]).toBe("sk-prod-value-000");
    });

    it("a secret rotated on the server lands at the next fetch triggered by a save", async () => {
      server.store.setSecret(PROJECT, "dev", "/", "OPENAI_API_KEY", CANARY.rotated);
      await writeFile(file, notebookToml().replace('path = "/"', 'path = "/"\nbase_url = "' + server.url + '"'));
      await waitFor(() => current()["OPENAI_API_KEY"] === CANARY.rotated, 5_000, "rotated value");
      expect(fetchedPaths()).toBeGreaterThanOrEqual(2);
    });
  });
}

describe("process exit", () => {
  it.each([
    ["after a fetch", "await p.open();\n      if (p.status().error) throw new Error(p.status().error);\n      await p.close();"],
    // config-reloaded is emitted by open() just before it starts the watcher.
    ["when close() comes while open() is under way", "await p.open();\n      await closing;"],
  ])("a Node process exits by itself after close(), %s", async (name, body) => {
    const server = await startFixture();
    const { dir, cleanup } = await tempDir();
    await writeNotebook(dir, notebookToml());
    const script = `
      import { createSecretManagerPlugin } from ${JSON.stringify(new URL("../plugin/index.ts", import.meta.url).href)};
      let closing;
      const p = createSecretManagerPlugin({ notebookDir: ${JSON.stringify(dir)}, env: {}, credentials: ${JSON.stringify(identityCredentials(server))},
        onEvent: (e) => { if (${JSON.stringify(name.startsWith("when"))} && e.type === "config-reloaded") closing = p.close(); } });
      ${body}
      console.log("closed");
    `;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    // A process kept alive by a leaked handle is killed, so the test fails instead of hanging.
    const killer = setTimeout(() => child.kill("SIGKILL"), 15_000);
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    clearTimeout(killer);
    try {
      expect(out).toContain("closed");
      expect(code).toBe(0);
    } finally {
      await server.close();
      await cleanup();
    }
  });
});
