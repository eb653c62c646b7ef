import { execFileSync, spawn } from "node:child_process";
import { appendFile, readFile, rename, rm, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { InfisicalServer } from "../fixtures/infisical-server/index.js";
import type { PluginEvent, SecretManagerPlugin } from "../plugin/index.js";
import { describe, expect, test as base } from "./fixtures.js";
import { CANARY, identityCredentials, notebookToml, PROJECT, tempDir, waitFor, writeNotebook } from "./helpers.js";

/** Generous waits for a loaded machine; they only matter when something is wrong. */
const WAIT = 15_000;

for (const usePolling of [false, true]) {
  describe(`watching notebook.toml (${usePolling ? "polling" : "native events"})`, () => {
    let server: InfisicalServer;
    let dir: string;
    let file: string;
    let events: PluginEvent[];
    let plugin: SecretManagerPlugin;
    let env: Record<string, string>;

    // Every test: a notebook on path "/", a watching plugin that has fetched it (closed after, always).
    const test = base.extend<{ watched: void }>({
      watched: [
        async ({ server: s, dir: d, events: e, makePlugin }, use) => {
          server = s;
          dir = d;
          events = e;
          file = await writeNotebook(dir, notebookToml());
          env = {};
          plugin = makePlugin({ env, watch: { usePolling, interval: 25 } });
          await plugin.open();
          await use();
        },
        { auto: true },
      ],
    });

    const lists = () => server.lists();
    const fetchedPaths = () => events.filter((e) => e.type === "secrets-fetched").length;
    const current = () => {
      plugin.beforeCellRun({ id: "x" });
      return env;
    };
    /** Waits until a write is surely handled: the plugin re-merged `[env]` to `marker`. */
    const settled = (marker: string) => waitFor(() => current()["MARK"] === marker, WAIT, `MARK=${marker}`);

    test("in-place write of [secret_manager] -> one list request and the new values", async () => {
      const before = lists();
      await writeFile(file, notebookToml({ path: "/app" }));
      await waitFor(() => current()["APP_SECRET"] === CANARY.appSecret, WAIT, "APP_SECRET");
      expect(current()["DATABASE_URL"]).toBeUndefined();
      await writeFile(file, notebookToml({ path: "/app", env: 'MARK = "1"' }));
      await settled("1");
      expect(lists() - before).toBe(1);
      expect(events.some((e) => e.type === "config-reloaded" && e.secretManagerChanged)).toBe(true);
    });

    test("write-temp-then-rename (vim, VS Code, JetBrains) is seen", async () => {
      const before = lists();
      const temp = join(dir, ".notebook.toml.swp");
      await writeFile(temp, notebookToml({ path: "/app" }));
      await rename(temp, file);
      await waitFor(() => current()["APP_SECRET"] === CANARY.appSecret, WAIT, "APP_SECRET");
      expect(lists() - before).toBe(1);
    });

    test("git checkout of another branch is seen", async () => {
      const git = (...args: string[]) => execFileSync("git", ["-c", "user.email=t@example.test", "-c", "user.name=t", ...args], { cwd: dir, stdio: "pipe" });
      git("init", "-q", "-b", "main");
      git("add", "notebook.toml");
      git("commit", "-qm", "root");
      git("checkout", "-qb", "app");
      await writeFile(file, notebookToml({ path: "/app" }));
      git("commit", "-qam", "app");
      await waitFor(() => current()["APP_SECRET"] === CANARY.appSecret, WAIT, "APP_SECRET on branch app");
      git("checkout", "-q", "main");
      await waitFor(() => current()["DATABASE_URL"] === CANARY.db && current()["APP_SECRET"] === undefined, WAIT, "root values after checkout");
    });

    test("delete then re-create keeps the last config in between and reloads after", async () => {
      await rm(file);
      await waitFor(() => plugin.status().configError?.includes("deleted"), WAIT, "deleted error");
      expect(current()["OPENAI_API_KEY"]).toBe(CANARY.openai);
      await writeFile(file, notebookToml({ path: "/app" }));
      await waitFor(() => current()["APP_SECRET"] === CANARY.appSecret, WAIT, "APP_SECRET");
      expect(plugin.status().configError).toBeNull();
    });

    test("an [env]-only change re-merges without asking the manager", async () => {
      const before = lists();
      await writeFile(file, notebookToml({ env: 'LOG_LEVEL = "debug"\nOPENAI_API_KEY = ""\nMARK = "e"' }));
      await settled("e");
      expect(current()["LOG_LEVEL"]).toBe("debug");
      expect(lists() - before).toBe(0);
    });

    test("a comment-only change or a touch does nothing", async () => {
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

    test("the plugin's own writes cause no fetch and no loop", async () => {
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

    test("20 saves in a burst (gaps shorter than the settle window) -> at most 2 fetches, the last save's values", async ({ makePlugin }) => {
      // Its own notebook and plugin with a settle window a loaded machine cannot overrun.
      const other = await tempDir();
      try {
        const otherFile = await writeNotebook(other.dir, notebookToml());
        const otherEnv: Record<string, string> = {};
        const p = makePlugin({ notebookDir: other.dir, env: otherEnv, watch: { usePolling, interval: 25, settleMs: 2_000 } });
        await p.open();
        const before = lists();
        let last = performance.now();
        let maxGap = 0;
        for (let i = 0; i < 20; i++) {
          await writeFile(otherFile, notebookToml({ path: i === 19 ? "/app" : `/p${i}`, env: `MARK = "${i}"` }));
          maxGap = Math.max(maxGap, performance.now() - last);
          last = performance.now();
        }
        expect(maxGap).toBeLessThan(2_000); // the burst really was one burst
        const now = () => (p.beforeCellRun({ id: "x" }), p.afterCellRun({ id: "x" }), otherEnv);
        await waitFor(() => now()["MARK"] === "19" && now()["APP_SECRET"] === CANARY.appSecret && !p.status().fetching, WAIT, "last save's values");
        expect(lists() - before).toBeLessThanOrEqual(2);
        expect(lists() - before).toBeGreaterThanOrEqual(1);
        expect(now()["DATABASE_URL"]).toBeUndefined();
      } finally {
        await other.cleanup();
      }
    });

    test("invalid TOML keeps the last good values and shows the error, then recovers", async () => {
      const before = lists();
      await writeFile(file, `[secret_manager\nprovider = "infisical"\n[env]\nOPENAI_API_KEY = "${CANARY.openai}"\n`);
      await waitFor(() => plugin.status().configError?.startsWith("notebook.toml is not valid TOML"), WAIT, "config error");
      expect(events.some((e) => e.type === "config-invalid")).toBe(true);
      expect(current()["OPENAI_API_KEY"]).toBe(CANARY.openai);
      expect(plugin.rows().find((r) => r.key === "DATABASE_URL")?.source).toBe("infisical");
      await writeFile(file, notebookToml({ env: 'MARK = "ok"' }));
      await settled("ok");
      expect(plugin.status().configError).toBeNull();
      expect(lists() - before).toBe(0);
    });

    test("a wrong schema keeps the last good [secret_manager] and names the key", async () => {
      await writeFile(file, notebookToml({ env: 'MARK = "s"' }).replace("project_id", "projet_id"));
      await settled("s");
      expect(plugin.status().configError).toMatch(/projet_id/);
      expect(current()["OPENAI_API_KEY"]).toBe(CANARY.openai);
    });

    test("an emptied file is treated as mid-write, then as an error; the config stays", async () => {
      await writeFile(file, "");
      await waitFor(() => plugin.status().configError?.includes("empty"), WAIT, "empty error");
      expect(current()["OPENAI_API_KEY"]).toBe(CANARY.openai);
    });

    test("a change while a slow fetch is in flight ends with the newest config's values", async () => {
      server.faults.latencyMs = 300;
      await writeFile(file, notebookToml({ path: "/app" }));
      await waitFor(() => plugin.status().fetching, WAIT, "fetch in flight");
      await writeFile(file, notebookToml({ environment: "prod" }));
      await waitFor(() => current()["ONLY_PROD"] === "prod-only" && !plugin.status().fetching, WAIT, "prod values");
      expect(current()["APP_SECRET"]).toBeUndefined();
      expect(current()["OPENAI_API_KEY"]).toBe("sk-prod-value-000");
    });

    test("a secret rotated on the server lands at the next fetch triggered by a save", async () => {
      server.store.setSecret(PROJECT, "dev", "/", "OPENAI_API_KEY", CANARY.rotated);
      await writeFile(file, notebookToml().replace('path = "/"', 'path = "/"\nbase_url = "' + server.url + '"'));
      await waitFor(() => current()["OPENAI_API_KEY"] === CANARY.rotated, WAIT, "rotated value");
      expect(fetchedPaths()).toBeGreaterThanOrEqual(2);
    });
  });
}

describe("process exit", () => {
  base.for([
    ["after a fetch", "await p.open();\n      if (p.status().error) throw new Error(p.status().error);\n      await p.close();"],
    // fetch-started is emitted by open() once the watcher is ready, with the fetch under way.
    ["when close() comes while open() is under way", "await p.open();\n      await closing;"],
    ["when close() comes right after open() starts (before the watcher)", "const opening = p.open();\n      await p.close();\n      await opening;"],
  ] as const)("a Node process exits by itself after close(), %s", async ([name, body], { server, dir }) => {
    await writeNotebook(dir, notebookToml());
    const script = `
      import { createSecretManagerPlugin } from ${JSON.stringify(new URL("../plugin/index.ts", import.meta.url).href)};
      let closing;
      const p = createSecretManagerPlugin({ notebookDir: ${JSON.stringify(dir)}, env: {}, credentials: ${JSON.stringify(identityCredentials(server))},
        onEvent: (e) => { if (${JSON.stringify(name.startsWith("when"))} && e.type === "fetch-started") closing = p.close(); } });
      ${body}
      console.log("closed");
    `;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    // A process kept alive by a leaked handle is killed, so the test fails instead of hanging.
    const killer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    try {
      const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
      expect(out).toContain("closed");
      expect(code).toBe(0);
    } finally {
      clearTimeout(killer);
      child.kill("SIGKILL");
    }
  });
});
