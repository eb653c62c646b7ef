// The Vault provider with real fetch against the Vault fixture (fixtures/vault-server) on
// 127.0.0.1: AppRole and token auth, KV v2/v1, namespaces, errors in the seed's wording,
// token expiry, transient failures, deadlines, and nothing a notebook sets redirects it.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startVaultServer, type VaultServer, type VaultServerOptions } from "../fixtures/vault-server/index.js";
import { createVaultProvider, VAULT_NO_CREDENTIALS_MESSAGE } from "../plugin/providers/vault.js";
import type { SecretManagerPluginOptions } from "../plugin/index.js";
import { describe, expect, test } from "./fixtures.js";
import { CANARY, serverScope } from "./helpers.js";

const SECRETS = { DB_PASSWORD: CANARY.vaultValue, PORT: 5432, DEBUG: true, NESTED: { a: 1 }, EMPTY: null };

function seed(overrides: Partial<VaultServerOptions> = {}): VaultServerOptions {
  return {
    mounts: { secret: { secrets: { "apps/notebook": SECRETS, "apps/other": { OTHER_KEY: "other-value" } } }, legacy: { version: 1, secrets: { "team/nb": { V1_KEY: "v1-value" } } } },
    approles: [{ roleId: "notebook-role", secretId: CANARY.vaultSecretId }],
    tokens: [{ token: CANARY.vaultToken }],
    ...overrides,
  };
}

const withVault = serverScope(startVaultServer);

const approle = (vault: VaultServer) => ({ VAULT_ADDR: vault.url, VAULT_ROLE_ID: "notebook-role", VAULT_SECRET_ID: CANARY.vaultSecretId });
const notebook = (table: string, env = 'LOG_LEVEL = "info"') => `[secret_manager]\nprovider = "vault"\n${table}\n\n[env]\n${env}\n`;
/** Fast retries, so that tests about transient failures stay short. */
const fast = (extra: Partial<SecretManagerPluginOptions> = {}): Partial<SecretManagerPluginOptions> => ({ providers: { vault: createVaultProvider({ retryMinTimeoutMs: 10 }) }, ...extra });

describe("Vault provider (KV v2 over Vault's HTTP API)", () => {
  test("AppRole: every key of the secret becomes a variable; numbers and booleans as strings, objects and null refused per key", async ({ dir, makePlugin }) => {
    await withVault(seed(), async (vault) => {
      await writeFile(join(dir, "notebook.toml"), notebook('path = "apps/notebook"'));
      const env: Record<string, string | undefined> = {};
      const p = makePlugin({ credentials: approle(vault), env });
      await p.open();
      expect(p.status()).toMatchObject({ provider: "vault", error: null });
      p.beforeCellRun({ id: "c1" });
      expect(env).toMatchObject({ DB_PASSWORD: CANARY.vaultValue, PORT: "5432", DEBUG: "true", LOG_LEVEL: "info" });
      expect(env["NESTED"]).toBeUndefined();
      p.afterCellRun({ id: "c1" });
      const rows = Object.fromEntries(p.rows().map((r) => [r.key, r]));
      expect(rows["NESTED"]?.refused).toMatch(/Vault holds an object under this key/);
      expect(rows["EMPTY"]?.refused).toMatch(/Vault holds null/);
      expect(rows["DB_PASSWORD"]).toMatchObject({ source: "vault", hidden: true });
      expect(p.maskOutput(`pw=${CANARY.vaultValue} id=${CANARY.vaultSecretId}`)).toBe("pw=*** id=***");
      expect(vault.logins()).toBe(1);
      expect(vault.requests.filter((r) => r.path === "/v1/secret/data/apps/notebook")).toHaveLength(1);
    });
  });

  test("rotation lands at the next refresh; a path switch saved to notebook.toml reads the other secret; the token is reused", async ({ dir, makePlugin }) => {
    await withVault(seed(), async (vault) => {
      await writeFile(join(dir, "notebook.toml"), notebook('path = "apps/notebook"'));
      const env: Record<string, string | undefined> = {};
      const p = makePlugin({ credentials: approle(vault), env, watch: true });
      await p.open();
      vault.write("secret", "apps/notebook", { ...SECRETS, DB_PASSWORD: CANARY.rotated });
      await p.refresh();
      p.beforeCellRun({ id: "c" });
      expect(env["DB_PASSWORD"]).toBe(CANARY.rotated);
      p.afterCellRun({ id: "c" });
      await writeFile(join(dir, "notebook.toml"), notebook('path = "apps/other"'));
      const deadline = Date.now() + 10_000;
      for (;;) {
        p.beforeCellRun({ id: "c" });
        const seen = env["OTHER_KEY"];
        p.afterCellRun({ id: "c" });
        if (seen === "other-value") break;
        if (Date.now() > deadline) throw new Error("the saved path never landed");
        await new Promise((r) => setTimeout(r, 10));
      }
      p.beforeCellRun({ id: "c" });
      expect(env["DB_PASSWORD"]).toBeUndefined();
      p.afterCellRun({ id: "c" });
      expect(vault.logins()).toBe(1);
    });
  });

  test("KV v1 is detected through the mount preflight; kv_version = 1 skips it; a denied preflight falls back to v2", async ({ dir, makePlugin }) => {
    await withVault(seed(), async (vault) => {
      await writeFile(join(dir, "notebook.toml"), notebook('mount = "legacy"\npath = "team/nb"'));
      const p = makePlugin({ credentials: approle(vault) });
      await p.open();
      expect(p.status().error).toBeNull();
      expect(p.rows().map((r) => r.key)).toContain("V1_KEY");
      expect(vault.count("/v1/sys/internal/ui/mounts/legacy/team/nb")).toBe(1);
      await p.saveSecretManagerConfig({ provider: "vault", mount: "legacy", path: "team/nb", kv_version: 1 });
      expect(vault.count(/^\/v1\/sys\/internal\/ui\/mounts\//)).toBe(1);
      expect(p.status().error).toBeNull();
      vault.denyMountPreflight = true;
      await p.saveSecretManagerConfig({ provider: "vault", mount: "secret", path: "apps/notebook" });
      expect(p.status().error).toBeNull();
      expect(p.rows().map((r) => r.key)).toContain("DB_PASSWORD");
    });
  });

  test("a static VAULT_TOKEN is used when no AppRole is set; the namespace applies to login and read", async ({ dir, makePlugin }) => {
    const ns = { namespaces: { "team-a": { secret: { secrets: { "apps/notebook": { NS_KEY: "in-namespace" } } } } }, approles: [{ roleId: "notebook-role", secretId: CANARY.vaultSecretId, namespace: "team-a" }] };
    await withVault(seed(ns), async (vault) => {
      await writeFile(join(dir, "notebook.toml"), notebook('path = "apps/notebook"\nnamespace = "team-a"'));
      const p = makePlugin({ credentials: approle(vault) });
      await p.open();
      expect(p.status().error).toBeNull();
      expect(p.rows().map((r) => r.key)).toEqual(["LOG_LEVEL", "NS_KEY"].sort());
      expect(vault.requests.filter((r) => r.path.startsWith("/v1/")).every((r) => r.headerNames.includes("x-vault-namespace"))).toBe(true);
    });
    await withVault(seed(), async (vault) => {
      await writeFile(join(dir, "notebook.toml"), notebook('path = "apps/notebook"'));
      const p = makePlugin({ credentials: { VAULT_ADDR: vault.url, VAULT_TOKEN: CANARY.vaultToken } });
      await p.open();
      expect(p.status().error).toBeNull();
      expect(vault.logins()).toBe(0);
      expect(p.maskOutput(CANARY.vaultToken)).toBe("***");
    });
  });

  test("an expired AppRole token is renewed by one new login; an expired static token is an authentication error", async ({ dir, makePlugin }) => {
    await withVault(seed(), async (vault) => {
      await writeFile(join(dir, "notebook.toml"), notebook('path = "apps/notebook"'));
      const p = makePlugin({ credentials: approle(vault) });
      await p.open();
      vault.expireAllTokens();
      await p.refresh();
      expect(p.status().error).toBeNull();
      expect(vault.logins()).toBe(2);
      const q = makePlugin({ credentials: { VAULT_ADDR: vault.url, VAULT_TOKEN: CANARY.vaultToken } });
      await q.open();
      expect(q.status().error).toMatch(/^Vault authentication failed: permission denied, invalid token \(HTTP 403\) \(VAULT_TOKEN is expired or revoked\)$/);
    });
  });

  test("a single-use secret ID that cannot log in again says so; the last good values stay", async ({ dir, makePlugin }) => {
    await withVault(seed({ approles: [{ roleId: "notebook-role", secretId: CANARY.vaultSecretId, secretIdUses: 1 }] }), async (vault) => {
      await writeFile(join(dir, "notebook.toml"), notebook('path = "apps/notebook"'));
      const env: Record<string, string | undefined> = {};
      const p = makePlugin({ credentials: approle(vault), env });
      await p.open();
      vault.expireAllTokens();
      await p.refresh();
      expect(p.status().error).toMatch(/^Vault authentication failed: invalid role or secret ID \(HTTP 400\) — this VAULT_SECRET_ID logged in before: it may be single-use/);
      p.beforeCellRun({ id: "c" });
      expect(env["DB_PASSWORD"]).toBe(CANARY.vaultValue);
      p.afterCellRun({ id: "c" });
    });
  });

  test.for([
    ["no credentials", (v: VaultServer) => ({ VAULT_ADDR: v.url }), 'path = "apps/notebook"', VAULT_NO_CREDENTIALS_MESSAGE],
    ["no VAULT_ADDR", () => ({ VAULT_TOKEN: CANARY.vaultToken }), 'path = "apps/notebook"', "Vault configuration error: VAULT_ADDR is not set. Set it (for example https://vault.example.com:8200) in the shell that launched Strata."],
    ["a wrong secret ID", (v: VaultServer) => ({ VAULT_ADDR: v.url, VAULT_ROLE_ID: "notebook-role", VAULT_SECRET_ID: "wrong-secret-id" }), 'path = "apps/notebook"', "Vault authentication failed: invalid role or secret ID (HTTP 400)"],
    ["a policy that does not allow the path", (v: VaultServer) => ({ VAULT_ADDR: v.url, VAULT_ROLE_ID: "limited", VAULT_SECRET_ID: "limited-secret" }), 'path = "apps/notebook"', "Vault read failed: permission denied (HTTP 403) (reading secret/data/apps/notebook)"],
    ["a missing secret", approle, 'path = "apps/nothing"', "Vault read failed: no secret at secret/data/apps/nothing (HTTP 404)"],
    ["a base_url that is not VAULT_ADDR", approle, 'path = "apps/notebook"\nbase_url = "http://127.0.0.1:1"', /^Refused: \[secret_manager\]\.base_url \(http:\/\/127\.0\.0\.1:1\) is not the Vault host this kernel uses \(VAULT_ADDR = http:\/\/127\.0\.0\.1:\d+\)/],
  ] as const)("%s: a clear message in the seed's wording", async ([, credentials, table, message], { dir, makePlugin }) => {
    await withVault(seed({ approles: [{ roleId: "notebook-role", secretId: CANARY.vaultSecretId }, { roleId: "limited", secretId: "limited-secret", allow: ["secret/apps/other"] }] }), async (vault) => {
      await writeFile(join(dir, "notebook.toml"), notebook(table));
      const p = makePlugin({ credentials: (credentials as (v: VaultServer) => Record<string, string>)(vault) });
      await p.open();
      if (typeof message === "string") expect(p.status().error).toBe(message);
      else expect(p.status().error).toMatch(message);
    });
  });

  test("sealed (503) twice, then unsealed: retried inside the deadline; sealed for good: a read error, last values kept", async ({ dir, makePlugin }) => {
    await withVault(seed(), async (vault) => {
      await writeFile(join(dir, "notebook.toml"), notebook('path = "apps/notebook"'));
      const env: Record<string, string | undefined> = {};
      const p = makePlugin({ credentials: approle(vault), env, ...fast() });
      await p.open();
      vault.faults.failNext = { count: 2, status: 503, body: { errors: ["Vault is sealed"] }, pathPrefix: "/v1/secret/" };
      await p.refresh();
      expect(p.status().error).toBeNull();
      vault.sealed = true;
      await p.refresh();
      expect(p.status().error).toBe("Vault read failed: Vault is sealed (HTTP 503) (reading secret/data/apps/notebook)");
      p.beforeCellRun({ id: "c" });
      expect(env["DB_PASSWORD"]).toBe(CANARY.vaultValue);
      p.afterCellRun({ id: "c" });
      expect(p.rows().find((r) => r.key === "DB_PASSWORD")?.stale).toBe(true);
    });
  });

  test("a Vault that accepts and never answers ends at the deadline; the next fetch works", async ({ dir, makePlugin }) => {
    await withVault(seed(), async (vault) => {
      await writeFile(join(dir, "notebook.toml"), notebook('path = "apps/notebook"'));
      const p = makePlugin({ credentials: approle(vault), fetchTimeoutMs: 400 });
      await p.open();
      vault.faults.hang = true;
      await p.refresh();
      expect(p.status().error).toMatch(/did not answer within/);
      vault.faults.hang = false;
      await p.refresh();
      expect(p.status().error).toBeNull();
    });
  });

  test("VAULT_ADDR and VAULT_TOKEN set in [env] redirect nothing: the other server receives no request", async ({ dir, makePlugin }) => {
    await withVault(seed(), async (vault) => {
      await withVault(seed(), async (decoy) => {
        await writeFile(join(dir, "notebook.toml"), notebook('path = "apps/notebook"', `VAULT_ADDR = "${decoy.url}"\nVAULT_TOKEN = "decoy"`));
        const env: Record<string, string | undefined> = {};
        const p = makePlugin({ credentials: approle(vault), env });
        await p.open();
        p.beforeCellRun({ id: "c" });
        expect(env["VAULT_ADDR"]).toBe(decoy.url); // the notebook's own variable, for its cells
        p.afterCellRun({ id: "c" });
        await p.refresh();
        expect(p.status().error).toBeNull();
        expect(decoy.requests).toHaveLength(0);
      });
    });
  });
});

describe("the manager fixtures (also `strata-secrets dev-server --provider`) survive what clients send", () => {
  test("Vault, AWS and Doppler fixtures: malformed requests get 4xx or a closed socket, never a crash; a real request works after", async () => {
    const { fuzz, malformedRequests } = await import("./http-fuzz.js");
    const { startAwsServer } = await import("../fixtures/aws-server/index.js");
    const { startDopplerServer } = await import("../fixtures/doppler-server/index.js");
    const vault = await startVaultServer(seed());
    const aws = await startAwsServer({ secrets: [{ name: "s", string: "{}" }], keys: [{ accessKeyId: "AKIAFUZZ", secretAccessKey: "fuzz" }] });
    const doppler = await startDopplerServer({ projects: { p: { dev: { A: "1" } } }, serviceTokens: [{ token: "dp.st.fuzz", project: "p", config: "dev" }] });
    try {
      for (const server of [vault, aws, doppler]) {
        const host = new URL(server.url).host;
        const statuses = await fuzz(server.port, [`GET //[ HTTP/1.1\r\nHost: ${host}\r\n\r\n`, ...malformedRequests(host, "x".repeat(64), 150)]);
        expect(statuses.filter((s) => s >= 500)).toEqual([]);
      }
      const provider = createVaultProvider();
      const r = await provider.fetch({ path: "apps/notebook" }, { signal: new AbortController().signal, timeoutMs: 10_000, credentials: approle(vault), notebookDir: "." });
      expect(r.error).toBeNull();
      const d = await fetch(`${doppler.url}/v3/configs/config/secrets/download?format=json`, { headers: { authorization: "Bearer dp.st.fuzz" } });
      expect(await d.json()).toMatchObject({ A: "1" });
    } finally {
      await Promise.all([vault.close(), aws.close(), doppler.close()]);
    }
  });
});
