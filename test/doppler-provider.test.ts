// The Doppler provider (plain fetch) against the Doppler fixture (fixtures/doppler-server).
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startDopplerServer, type DopplerServer, type DopplerServerOptions } from "../fixtures/doppler-server/index.js";
import { createDopplerProvider, DOPPLER_NO_CREDENTIALS_MESSAGE } from "../plugin/providers/doppler.js";
import type { SecretManagerPluginOptions } from "../plugin/index.js";
import { describe, expect, test } from "./fixtures.js";
import { CANARY, serverScope } from "./helpers.js";

const PERSONAL = "dp.pt.canary-personal-token-8e21";

function seed(overrides: Partial<DopplerServerOptions> = {}): DopplerServerOptions {
  return {
    projects: { backend: { dev: { STRIPE_KEY: CANARY.dopplerValue, API_HOST: "api.dev.test" }, prd: { STRIPE_KEY: "prd-stripe", API_HOST: "api.test" } } },
    serviceTokens: [{ token: CANARY.dopplerToken, project: "backend", config: "dev" }],
    personalTokens: [{ token: PERSONAL }],
    ...overrides,
  };
}

const withDoppler = serverScope(startDopplerServer);

const creds = (d: DopplerServer, token: string = CANARY.dopplerToken) => ({ DOPPLER_API_HOST: d.url, DOPPLER_TOKEN: token });
const notebook = (table: string, env = 'LOG_LEVEL = "info"') => `[secret_manager]\nprovider = "doppler"\n${table}\n\n[env]\n${env}\n`;
const fast = (extra: Partial<SecretManagerPluginOptions> = {}): Partial<SecretManagerPluginOptions> => ({ providers: { doppler: createDopplerProvider({ retryMinTimeoutMs: 10 }) }, ...extra });

describe("Doppler provider (secrets download over fetch)", () => {
  test("a service token: its config's secrets, without Doppler's own DOPPLER_* variables unless asked", async ({ dir, makePlugin }) => {
    await withDoppler(seed(), async (doppler) => {
      await writeFile(join(dir, "notebook.toml"), notebook(""));
      const env: Record<string, string | undefined> = {};
      const p = makePlugin({ credentials: creds(doppler), env });
      await p.open();
      expect(p.status()).toMatchObject({ provider: "doppler", error: null, notice: null });
      p.beforeCellRun({ id: "c" });
      expect(env).toMatchObject({ STRIPE_KEY: CANARY.dopplerValue, API_HOST: "api.dev.test" });
      expect(env["DOPPLER_PROJECT"]).toBeUndefined();
      p.afterCellRun({ id: "c" });
      expect(p.maskOutput(`${CANARY.dopplerToken} ${CANARY.dopplerValue}`)).toBe("*** ***");
      await p.saveSecretManagerConfig({ provider: "doppler", include_doppler_vars: true });
      p.beforeCellRun({ id: "c" });
      expect(env).toMatchObject({ DOPPLER_PROJECT: "backend", DOPPLER_CONFIG: "dev", DOPPLER_ENVIRONMENT: "dev" });
      p.afterCellRun({ id: "c" });
      expect(doppler.requests.every((r) => r.query["format"] === "json" && r.query["project"] === undefined)).toBe(true);
    });
  });

  test("a service token's scope wins over another project/config in the notebook, and the status says so", async ({ dir, makePlugin }) => {
    await withDoppler(seed(), async (doppler) => {
      await writeFile(join(dir, "notebook.toml"), notebook('project = "backend"\nconfig = "prd"'));
      const env: Record<string, string | undefined> = {};
      const p = makePlugin({ credentials: creds(doppler), env });
      await p.open();
      expect(p.status().error).toBeNull();
      expect(p.status().notice).toBe("The Doppler service token is scoped to backend/dev; [secret_manager] names backend/prd, which the token cannot read. Showing backend/dev.");
      p.beforeCellRun({ id: "c" });
      expect(env["STRIPE_KEY"]).toBe(CANARY.dopplerValue);
      p.afterCellRun({ id: "c" });
    });
  });

  test("a personal token reads the project + config named; switching config on save; rotation at the next refresh", async ({ dir, makePlugin }) => {
    await withDoppler(seed(), async (doppler) => {
      await writeFile(join(dir, "notebook.toml"), notebook('project = "backend"\nconfig = "dev"'));
      const env: Record<string, string | undefined> = {};
      const p = makePlugin({ credentials: creds(doppler, PERSONAL), env });
      await p.open();
      doppler.set("backend", "dev", "STRIPE_KEY", CANARY.rotated);
      await p.refresh();
      p.beforeCellRun({ id: "c" });
      expect(env["STRIPE_KEY"]).toBe(CANARY.rotated);
      p.afterCellRun({ id: "c" });
      await p.saveSecretManagerConfig({ provider: "doppler", project: "backend", config: "prd" });
      p.beforeCellRun({ id: "c" });
      expect(env["STRIPE_KEY"]).toBe("prd-stripe");
      p.afterCellRun({ id: "c" });
      await p.saveSecretManagerConfig({ provider: "doppler", project: "backend" });
      expect(p.status().error).toBe("Doppler configuration error: set project and config in [secret_manager] (a personal or CLI token is not scoped to one config).");
    });
  });

  test.for([
    ["no token", (d: DopplerServer) => ({ DOPPLER_API_HOST: d.url }), "", DOPPLER_NO_CREDENTIALS_MESSAGE],
    ["a revoked or unknown token", (d: DopplerServer) => creds(d, "dp.st.dev.unknown"), "", "Doppler authentication failed: Invalid Auth token (HTTP 401)"],
    ["a config that does not exist", (d: DopplerServer) => creds(d, PERSONAL), 'project = "backend"\nconfig = "stg"', "Doppler download failed: Could not find requested config (HTTP 404)"],
    ["a base_url that is not DOPPLER_API_HOST", (d: DopplerServer) => creds(d), 'base_url = "https://api.doppler.com"', /^Refused: \[secret_manager\]\.base_url \(https:\/\/api\.doppler\.com\) is not the Doppler host this kernel uses \(DOPPLER_API_HOST = http:\/\/127\.0\.0\.1:\d+\)/],
  ] as const)("%s: a clear message", async ([, credentials, table, message], { dir, makePlugin }) => {
    await withDoppler(seed(), async (doppler) => {
      await writeFile(join(dir, "notebook.toml"), notebook(table));
      const p = makePlugin({ credentials: (credentials as (d: DopplerServer) => Record<string, string>)(doppler) });
      await p.open();
      if (typeof message === "string") expect(p.status().error).toBe(message);
      else expect(p.status().error).toMatch(message);
    });
  });

  test("429 with Retry-After is waited out and retried; an HTML 503 from the edge is retried, then reported without a crash", async ({ dir, makePlugin }) => {
    await withDoppler(seed(), async (doppler) => {
      await writeFile(join(dir, "notebook.toml"), notebook(""));
      const p = makePlugin({ credentials: creds(doppler), ...fast() });
      await p.open();
      doppler.rateLimitNext(1, 1);
      const started = Date.now();
      await p.refresh();
      expect(p.status().error).toBeNull();
      expect(Date.now() - started).toBeGreaterThanOrEqual(900);
      const html = { count: 3, status: 503, body: "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>", headers: { "content-type": "text/html" } };
      doppler.faults.failNext = { ...html, count: 1 };
      await p.refresh();
      expect(p.status().error).toBeNull();
      doppler.faults.failNext = html;
      await p.refresh();
      expect(p.status().error).toBe("Doppler download failed: HTTP 503: 503 Service Temporarily Unavailable");
      expect(p.rows().find((r) => r.key === "STRIPE_KEY")?.stale).toBe(true);
    });
  });

  test("a server that never answers ends at the deadline; DOPPLER_API_HOST set in [env] redirects nothing", async ({ dir, makePlugin }) => {
    await withDoppler(seed(), async (doppler) => {
      await withDoppler(seed(), async (decoy) => {
        await writeFile(join(dir, "notebook.toml"), notebook("", `DOPPLER_API_HOST = "${decoy.url}"\nDOPPLER_TOKEN = "dp.st.decoy"`));
        const p = makePlugin({ credentials: creds(doppler), fetchTimeoutMs: 400 });
        await p.open();
        expect(p.status().error).toBeNull();
        doppler.faults.hang = true;
        await p.refresh();
        expect(p.status().error).toMatch(/did not answer within/);
        doppler.faults.hang = false;
        await p.refresh();
        expect(p.status().error).toBeNull();
        expect(decoy.requests).toHaveLength(0);
      });
    });
  });
});
