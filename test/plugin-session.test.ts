import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { createSecretManagerPlugin, MASKED, StrataSecretsError, type SecretManagerPlugin } from "../plugin/index.js";
import { describe, expect, openFetched, refetched, test } from "./fixtures.js";
import { CANARY, identityCredentials, notebookToml, PROJECT, writeNotebook } from "./helpers.js";

const row = (p: SecretManagerPlugin, key: string) => p.rows().find((r) => r.key === key);

describe("session env model", () => {
  test("without [secret_manager] nothing is fetched and there is no error", async ({ server, dir, makePlugin }) => {
    await writeNotebook(dir, '[env]\nLOG_LEVEL = "info"\n');
    const env: Record<string, string> = {};
    const p = makePlugin({ env });
    await p.open();
    p.beforeCellRun({ id: "c" });
    expect(env).toEqual({ LOG_LEVEL: "info" });
    expect(p.status()).toMatchObject({ configured: false, error: null, fetchedAt: null });
    expect(server.requests).toHaveLength(0);
  });

  test("fills a blank sensitive placeholder, adds new keys, keeps manual values, with the right sources", async ({ dir, makePlugin }) => {
    await writeNotebook(dir, notebookToml({ env: 'DEBUG = "true"\nOPENAI_API_KEY = ""' }));
    const env: Record<string, string> = { HOME: "/home/x" };
    const p = makePlugin({ env });
    await p.open();
    p.beforeCellRun({ id: "c" });
    expect(env).toEqual({ HOME: "/home/x", DEBUG: "true", OPENAI_API_KEY: CANARY.openai, DATABASE_URL: CANARY.db, API_HOST: "api.example.test" });
    expect(row(p, "OPENAI_API_KEY")).toEqual({ key: "OPENAI_API_KEY", source: "infisical", sensitive: true, hidden: true, stale: false });
    expect(row(p, "DEBUG")).toMatchObject({ source: "manual", sensitive: false });
    expect(row(p, "DATABASE_URL")).toMatchObject({ source: "infisical", sensitive: false });
    expect(p.maskedEnv()).toEqual({ DEBUG: "true", OPENAI_API_KEY: MASKED, DATABASE_URL: MASKED, API_HOST: MASKED });
    expect(p.status()).toMatchObject({ configured: true, provider: "infisical", error: null, fetching: false });
    expect(p.status().fetchedAt).toMatch(/Z$/);
  });

  test("a manual copy of a fetched value is hidden, kept in memory and never written", async ({ dir, makePlugin }) => {
    await writeNotebook(dir, notebookToml());
    const env: Record<string, string> = {};
    const p = makePlugin({ env });
    await p.open();
    await p.saveEnv({ ...p.maskedEnv(), DB_COPY: CANARY.db });
    expect(p.maskedEnv()["DB_COPY"]).toBe(MASKED);
    expect(await readFile(join(dir, "notebook.toml"), "utf8")).toContain('DB_COPY = ""');
    p.beforeCellRun({ id: "c" });
    expect(env["DB_COPY"]).toBe(CANARY.db);
    expect(row(p, "DB_COPY")?.source).toBe("manual");
  });

  test("a non-empty manual value beats the fetched one and stays manual", async ({ dir, makePlugin }) => {
    await writeNotebook(dir, notebookToml({ env: 'API_HOST = "localhost"' }));
    const env: Record<string, string> = {};
    const p = makePlugin({ env });
    await p.open();
    p.beforeCellRun({ id: "c" });
    expect(env["API_HOST"]).toBe("localhost");
    expect(row(p, "API_HOST")?.source).toBe("manual");
  });

  test("a rotated value replaces the first on refresh; a manual one is not overwritten by a rotation", async ({ server, dir, makePlugin }) => {
    await writeNotebook(dir, notebookToml());
    const env: Record<string, string> = {};
    const p = makePlugin({ env });
    await p.open();
    server.store.setSecret(PROJECT, "dev", "/", "OPENAI_API_KEY", CANARY.rotated);
    await p.refresh();
    p.beforeCellRun({ id: "c" });
    expect(env["OPENAI_API_KEY"]).toBe(CANARY.rotated);
    await p.saveEnv({ ...p.maskedEnv(), API_HOST: "manual-host" });
    server.store.setSecret(PROJECT, "dev", "/", "API_HOST", "rotated-host");
    await p.refresh();
    p.beforeCellRun({ id: "c" });
    expect(env["API_HOST"]).toBe("manual-host");
    expect(row(p, "API_HOST")?.source).toBe("manual");
  });

  test("between cells a rotation is applied at once; during a cell it waits for the cell to end", async ({ server, dir, makePlugin }) => {
    await writeNotebook(dir, notebookToml());
    const env: Record<string, string> = {};
    const p = makePlugin({ env });
    await p.open();
    expect(env["OPENAI_API_KEY"]).toBeUndefined(); // nothing is touched before the first cell
    p.beforeCellRun({ id: "a" });
    server.store.setSecret(PROJECT, "dev", "/", "OPENAI_API_KEY", CANARY.rotated);
    await p.refresh();
    expect(env["OPENAI_API_KEY"]).toBe(CANARY.openai); // a running cell keeps a stable env
    p.afterCellRun({ id: "a" });
    expect(env["OPENAI_API_KEY"]).toBe(CANARY.rotated);
    server.store.setSecret(PROJECT, "dev", "/", "OPENAI_API_KEY", CANARY.openai);
    await p.refresh();
    expect(env["OPENAI_API_KEY"]).toBe(CANARY.openai); // idle: applied right away
  });

  test("a fetch error is surfaced and the env is left as it was", async ({ dir, makePlugin, events }) => {
    await writeNotebook(dir, notebookToml({ projectId: "00000000-0000-0000-0000-000000000000" }));
    const env: Record<string, string> = { OPENAI_API_KEY: "kernel-own" };
    const p = makePlugin({ env });
    await p.open();
    p.beforeCellRun({ id: "c" });
    expect(env).toEqual({ OPENAI_API_KEY: "kernel-own", LOG_LEVEL: "info" });
    expect(p.status().fetchError).toMatch(/^Infisical list_secrets failed: .*Project not found/);
    expect(p.status().error).toBe(p.status().fetchError);
    expect(events.some((e) => e.type === "fetch-failed")).toBe(true);
  });

  test.for([
    ['provider = "onepassword"', "Unknown secret provider: 'onepassword' (known: infisical, vault, aws, doppler, files)"],
    ['project_id = "x"', '[secret_manager].provider is missing: set provider = "infisical".'],
    ['provider = "infisical"\nprojet_id = "x"', "[secret_manager]: unknown key 'projet_id' (expected one of provider, project_id, environment, path, base_url, refresh_interval)"],
  ])("config %s is a config error, no request is made", async ([line, message], { server, dir, makePlugin }) => {
    await writeNotebook(dir, `[secret_manager]\n${line}\n`);
    const p = makePlugin();
    await p.open();
    expect(p.status()).toMatchObject({ configured: false, configError: message, error: message, fetchError: null });
    expect(server.requests).toHaveLength(0);
  });

  test("an unchanged fetched row saved through saveEnv keeps its source and is not written", async ({ dir, makePlugin }) => {
    await writeNotebook(dir, notebookToml());
    const p = makePlugin();
    await p.open();
    await p.saveEnv({ LOG_LEVEL: "debug", OPENAI_API_KEY: MASKED, DATABASE_URL: CANARY.db, API_HOST: MASKED });
    expect(row(p, "DATABASE_URL")?.source).toBe("infisical");
    const text = await readFile(join(dir, "notebook.toml"), "utf8");
    expect(text).toContain('[env]\nLOG_LEVEL = "debug"\nOPENAI_API_KEY = ""\n');
    expect(text).not.toContain("DATABASE_URL");
  });

  test("fetch ok, then the manager goes down, then a save: values and sources are kept (stale)", async ({ server, dir, makePlugin }) => {
    await writeNotebook(dir, notebookToml());
    const env: Record<string, string> = {};
    const p = makePlugin({ env, fetchTimeoutMs: 500 });
    await openFetched(p);
    server.faults.hang = true;
    await p.refresh();
    expect(p.status().fetchError).toBe("The secret manager did not answer within 0.5s.");
    expect(row(p, "OPENAI_API_KEY")).toMatchObject({ source: "infisical", stale: true });
    await p.saveEnv(p.maskedEnv());
    p.beforeCellRun({ id: "c" });
    expect(env["OPENAI_API_KEY"]).toBe(CANARY.openai);
    expect(row(p, "OPENAI_API_KEY")).toMatchObject({ source: "infisical", stale: true });
    server.resetFaults();
    await refetched(p); // the hung request was aborted at the deadline; the next one succeeds
    expect(row(p, "OPENAI_API_KEY")?.stale).toBe(false);
  });

  test("a key the manager no longer returns is removed and the kernel's value shows again", async ({ server, dir, makePlugin }) => {
    await writeNotebook(dir, notebookToml());
    const env: Record<string, string> = { DATABASE_URL: "kernel-db" };
    const p = makePlugin({ env });
    await p.open();
    p.beforeCellRun({ id: "c" });
    expect(env["DATABASE_URL"]).toBe(CANARY.db);
    server.store.deleteSecret(PROJECT, "dev", "/", "DATABASE_URL");
    await p.refresh();
    p.beforeCellRun({ id: "c" });
    expect(env["DATABASE_URL"]).toBe("kernel-db");
    expect(row(p, "DATABASE_URL")).toBeUndefined();
  });

  test("switching [secret_manager] never mixes two configs' values, even when the new fetch fails", async ({ dir, makePlugin }) => {
    await writeNotebook(dir, notebookToml());
    const env: Record<string, string> = {};
    const p = makePlugin({ env });
    await p.open();
    await p.saveSecretManagerConfig({ provider: "infisical", project_id: PROJECT, environment: "dev", path: "/app" });
    p.beforeCellRun({ id: "c" });
    expect(env["APP_SECRET"]).toBe(CANARY.appSecret);
    expect(env["DATABASE_URL"]).toBeUndefined();
    await p.saveSecretManagerConfig({ provider: "infisical", project_id: "00000000-0000-0000-0000-000000000000" });
    p.beforeCellRun({ id: "c" });
    expect(env["APP_SECRET"]).toBeUndefined();
    expect(p.rows().filter((r) => r.source === "infisical")).toEqual([]);
    expect(p.status().fetchError).toMatch(/Project not found/);
  });

  test("saveSecretManagerConfig drops unknown keys, trims, omits empty values; null removes the table", async ({ dir, makePlugin }) => {
    await writeNotebook(dir, '[env]\nA = "1"\n');
    const p = makePlugin();
    await p.open();
    await p.saveSecretManagerConfig({ provider: " infisical ", project_id: PROJECT, path: "", base_url: "  ", bogus: "x" });
    expect(await readFile(join(dir, "notebook.toml"), "utf8")).toBe(`[env]\nA = "1"\n\n[secret_manager]\nprovider = "infisical"\nproject_id = "${PROJECT}"\n`);
    expect(p.secretManagerConfig()).toEqual({ provider: "infisical", project_id: PROJECT });
    await p.saveSecretManagerConfig({ provider: "", path: " " });
    expect(await readFile(join(dir, "notebook.toml"), "utf8")).toBe('[env]\nA = "1"\n\n');
    expect(p.status()).toMatchObject({ configured: false, error: null });
    await expect(p.saveSecretManagerConfig({ provider: "nope" })).rejects.toMatchObject({ code: "INVALID_ARGUMENT", message: "Unknown secret provider: 'nope' (known: infisical, vault, aws, doppler, files)" });
  });

  test("patches and restores across many cells; a cell overlay never leaks into the next cell", async ({ dir, makePlugin }) => {
    await writeNotebook(dir, notebookToml({ extra: '[[cells]]\nid = "a"\nenv = { LOG_LEVEL = "trace", EXTRA = "1", OPENAI_API_KEY = "" }\n[[cells]]\nid = "b"\n' }));
    const env: Record<string, string> = { KEEP: "k" };
    const p = makePlugin({ env });
    await p.open();
    for (let i = 0; i < 50; i++) {
      p.beforeCellRun({ id: "a" });
      expect(env).toMatchObject({ LOG_LEVEL: "trace", EXTRA: "1", OPENAI_API_KEY: CANARY.openai });
      env["DATABASE_URL"] = "overwritten by the cell";
      delete env["API_HOST"];
      p.afterCellRun({ id: "a" });
      p.beforeCellRun({ id: "b" });
      expect(env["LOG_LEVEL"]).toBe("info");
      expect(env["EXTRA"]).toBeUndefined();
      expect(env["DATABASE_URL"]).toBe(CANARY.db);
      expect(env["API_HOST"]).toBe("api.example.test");
      p.afterCellRun({ id: "b" });
    }
  });

  test("reassertAfterCell: false leaves a cell's change to a managed key alone", async ({ dir, makePlugin }) => {
    await writeNotebook(dir, notebookToml());
    const env: Record<string, string> = {};
    const p = makePlugin({ env, reassertAfterCell: false });
    await p.open();
    p.beforeCellRun({ id: "a" });
    env["API_HOST"] = "set by the cell";
    p.afterCellRun({ id: "a" });
    p.beforeCellRun({ id: "b" });
    expect(env["API_HOST"]).toBe("set by the cell");
  });

  test("close() restores the exact original env, credentials included", async ({ server, dir }) => {
    await writeNotebook(dir, notebookToml({ env: 'LOG_LEVEL = "info"\nHOME = "/elsewhere"' }));
    const original = { HOME: "/home/me", API_HOST: "kernel-host", ...identityCredentials(server) };
    const env: Record<string, string> = { ...original };
    const p = createSecretManagerPlugin({ notebookDir: dir, env, credentials: env, watch: false });
    expect(env["INFISICAL_CLIENT_SECRET"]).toBeUndefined();
    await p.open();
    p.beforeCellRun({ id: "c" });
    expect(env["INFISICAL_CLIENT_ID"]).toBeUndefined();
    expect(env["INFISICAL_TOKEN"]).toBeUndefined();
    expect(env["HOME"]).toBe("/elsewhere");
    expect(env["API_HOST"]).toBe("api.example.test");
    await p.close();
    await p.close();
    expect(env).toEqual(original);
  });

  test("refuses code-injecting names and invalid names unless allowed, and says why", async ({ server, dir, makePlugin }) => {
    for (const [k, v] of [["NODE_OPTIONS", "--require /tmp/evil.js"], ["LD_PRELOAD", "/tmp/evil.so"], ["DYLD_INSERT_LIBRARIES", "x"], ["BASH_ENV", "/tmp/x"], ["bad-name", "v"], ["NUL_VALUE", "a\0b"]] as const) {
      server.store.setSecret(PROJECT, "dev", "/", k, v);
    }
    await writeNotebook(dir, notebookToml());
    const env: Record<string, string> = {};
    const p = makePlugin({ env });
    await p.open();
    p.beforeCellRun({ id: "c" });
    for (const k of ["NODE_OPTIONS", "LD_PRELOAD", "DYLD_INSERT_LIBRARIES", "BASH_ENV", "bad-name", "NUL_VALUE"]) {
      expect(env[k], k).toBeUndefined();
      expect(row(p, k)?.refused, k).toBeTruthy();
    }
    expect(row(p, "NODE_OPTIONS")?.refused).toMatch(/allowUnsafeNames/);
    const env2: Record<string, string> = {};
    const p2 = makePlugin({ env: env2, allowUnsafeNames: ["NODE_OPTIONS"] });
    await p2.open();
    p2.beforeCellRun({ id: "c" });
    expect(env2["NODE_OPTIONS"]).toBe("--require /tmp/evil.js");
    expect(env2["LD_PRELOAD"]).toBeUndefined();
  });

  test("__proto__ and constructor are plain names", async ({ server, dir, makePlugin }) => {
    server.store.setSecret(PROJECT, "dev", "/", "__proto__", "proto-value");
    server.store.setSecret(PROJECT, "dev", "/", "constructor", "ctor-value");
    await writeNotebook(dir, notebookToml());
    const env: Record<string, string> = {};
    const p = makePlugin({ env });
    await p.open();
    p.beforeCellRun({ id: "c" });
    expect(Object.getOwnPropertyDescriptor(env, "__proto__")?.value).toBe("proto-value");
    expect(Object.getPrototypeOf(env)).toBe(Object.prototype);
    expect(env["constructor"]).toBe("ctor-value");
    expect(row(p, "__proto__")?.source).toBe("infisical");
    await p.close();
    expect(Object.hasOwn(env, "__proto__")).toBe(false);
    expect(Object.hasOwn(env, "constructor")).toBe(false);
  });

  test("a short deadline (150 ms) never makes every fetch fail", async ({ server, dir, makePlugin }) => {
    server.faults.latencyMs = 10;
    await writeNotebook(dir, notebookToml());
    const env: Record<string, string> = {};
    // 150 ms is more than a login + list (~25 ms with this latency). With the SDK in a worker
    // thread, a cold start (250 ms and more) exceeded it, and each deadline killed the
    // starting worker: no fetch ever reached the server.
    const p = makePlugin({ env, fetchTimeoutMs: 150 });
    await openFetched(p); // refreshes until one succeeds
    p.beforeCellRun({ id: "c" });
    expect(env["OPENAI_API_KEY"]).toBe(CANARY.openai);
  });

  test("100 concurrent refreshes share one fetch", async ({ server, dir, makePlugin }) => {
    await writeNotebook(dir, notebookToml());
    const p = makePlugin();
    await p.open();
    const before = server.lists();
    server.faults.latencyMs = 50;
    await Promise.all(Array.from({ length: 100 }, () => p.refresh()));
    expect(server.lists() - before).toBe(1);
  });

  test("cells see no INFISICAL_* credentials in process.env", async ({ server, dir, makePlugin }) => {
    await writeNotebook(dir, notebookToml());
    const saved = { ...process.env };
    Object.assign(process.env, identityCredentials(server));
    try {
      const p = makePlugin({ env: process.env, credentials: process.env });
      await p.open();
      p.beforeCellRun({ id: "c" });
      expect(process.env["INFISICAL_CLIENT_SECRET"]).toBeUndefined();
      expect(process.env["INFISICAL_CLIENT_ID"]).toBeUndefined();
      expect(process.env["OPENAI_API_KEY"]).toBe(CANARY.openai);
      p.afterCellRun({ id: "c" });
      await p.close();
      expect(process.env["INFISICAL_CLIENT_SECRET"]).toBe(CANARY.clientSecret);
      expect(process.env["OPENAI_API_KEY"]).toBe(saved["OPENAI_API_KEY"]);
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    }
  });

  test("open() does not throw when the manager is down; calls after close throw ALREADY_CLOSED", async ({ server, dir, makePlugin, seen }) => {
    await writeNotebook(dir, notebookToml());
    const url = server.url;
    await server.close();
    const p = makePlugin({ env: {}, credentials: { ...identityCredentials(server), INFISICAL_HOST: url }, fetchTimeoutMs: 500 });
    await p.open();
    expect(p.status().error).toMatch(/did not answer within 0.5s/);
    await p.close();
    for (const call of [() => p.beforeCellRun({ id: "c" }), () => p.refresh(), () => p.saveEnv({})]) {
      try {
        await call();
        expect.unreachable();
      } catch (error) {
        seen.push(error);
        expect(error).toBeInstanceOf(StrataSecretsError);
        expect((error as StrataSecretsError).code).toBe("ALREADY_CLOSED");
      }
    }
  });

  test("masks fetched values and sensitive manual values in output, and follows rotations", async ({ server, dir, makePlugin }) => {
    await writeNotebook(dir, notebookToml());
    const p = makePlugin();
    await p.open();
    await p.saveEnv({ ...p.maskedEnv(), MY_PASSWORD: "typed-password-123", PLAIN: "plain-value" });
    const text = `db=${CANARY.db} key=${Buffer.from(CANARY.openai).toString("base64")} pw=typed-password-123 plain=plain-value`;
    expect(p.maskOutput(text)).toBe("db=*** key=*** pw=*** plain=plain-value");
    const stream = p.createOutputMasker();
    server.store.setSecret(PROJECT, "dev", "/", "OPENAI_API_KEY", CANARY.rotated);
    await p.refresh();
    expect(stream.write(`new ${CANARY.rotated.slice(0, 10)}`) + stream.write(`${CANARY.rotated.slice(10)} done`) + stream.flush()).toBe("new *** done");
    const disk = await readFile(join(dir, "notebook.toml"), "utf8");
    expect(disk).toContain('MY_PASSWORD = ""');
    expect(disk).not.toContain("typed-password-123");
  });

  test("the kernel's own credentials are masked in output like secrets, in every encoding", async ({ dir, makePlugin }) => {
    await writeNotebook(dir, notebookToml());
    const p = makePlugin();
    await p.open();
    const b64 = Buffer.from(CANARY.clientSecret).toString("base64");
    expect(p.maskOutput(`id=${CANARY.clientId} secret=${CANARY.clientSecret} b64=${b64} url=${encodeURIComponent(CANARY.clientSecret)}`)).toBe("id=*** secret=*** b64=*** url=***");
    const m = p.createOutputMasker();
    expect(m.write(`environ: INFISICAL_CLIENT_SECRET=${CANARY.clientSecret.slice(0, 9)}`) + m.write(`${CANARY.clientSecret.slice(9)}\0`) + m.flush()).toBe("environ: INFISICAL_CLIENT_SECRET=***\0");
  });

  test("saveEnv rejects bad names and NUL values without echoing the value", async ({ dir, makePlugin, seen }) => {
    await writeNotebook(dir, notebookToml());
    const p = makePlugin();
    await p.open();
    for (const bad of [{ "1BAD": "x" }, { GOOD: `${CANARY.openai}\0` }]) {
      const error = await p.saveEnv(bad).catch((e: unknown) => e);
      seen.push(error);
      expect((error as StrataSecretsError).code).toBe("INVALID_ARGUMENT");
    }
  });
});

describe("the masker is built off the print path", () => {
  test("right after a rotation, output is masked by a bridge; the new masker is built on the next turn", async ({ server, dir, makePlugin }) => {
    const { SecretMasker } = await import("../redaction/masker.js");
    await writeNotebook(dir, notebookToml());
    const p = makePlugin();
    await p.open();
    await new Promise((r) => setImmediate(r));
    const stream = p.createOutputMasker();
    server.store.setSecret(PROJECT, "dev", "/", "OPENAI_API_KEY", CANARY.rotated);
    await p.refresh();
    const before = SecretMasker.builds;
    expect(p.maskOutput(`new ${CANARY.rotated} old ${CANARY.openai} db ${CANARY.db}`)).toBe("new *** old *** db ***");
    expect(stream.write(`b64 ${Buffer.from(CANARY.rotated).toString("base64")} `) + stream.write(`half ${CANARY.rotated.slice(0, 9)}`) + stream.write(`${CANARY.rotated.slice(9)}\n`)).toBe("b64 *** half ***\n");
    expect(SecretMasker.builds).toBe(before); // nothing was built while printing
    await new Promise((r) => setImmediate(r));
    expect(SecretMasker.builds).toBe(before + 1);
    expect(p.maskOutput(`${CANARY.rotated} ${CANARY.openai}`)).toBe("*** ***");
  });
});
