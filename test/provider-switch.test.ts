// Switching a notebook from Infisical to Vault, AWS Secrets Manager or Doppler is one
// [secret_manager] edit, saved in an editor (the watcher) or from the panel's form; the next
// cell sees the new manager's values and none of the old one's.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { startAwsServer } from "../fixtures/aws-server/index.js";
import { startDopplerServer } from "../fixtures/doppler-server/index.js";
import { startVaultServer } from "../fixtures/vault-server/index.js";
import { describe, expect, test } from "./fixtures.js";
import { CANARY, identityCredentials, notebookToml, waitFor } from "./helpers.js";

interface Manager {
  table: string;
  config: Record<string, string>;
  credentials: Record<string, string>;
  close: () => Promise<void>;
}

const managers: Record<string, () => Promise<Manager>> = {
  vault: async () => {
    const s = await startVaultServer({ mounts: { secret: { secrets: { "apps/nb": { MANAGER_VALUE: CANARY.vaultValue } } } }, approles: [{ roleId: "r", secretId: CANARY.vaultSecretId }] });
    return { table: 'provider = "vault"\npath = "apps/nb"', config: { provider: "vault", path: "apps/nb" }, credentials: { VAULT_ADDR: s.url, VAULT_ROLE_ID: "r", VAULT_SECRET_ID: CANARY.vaultSecretId }, close: () => s.close() };
  },
  aws: async () => {
    const s = await startAwsServer({ secrets: [{ name: "prod/nb", string: JSON.stringify({ MANAGER_VALUE: CANARY.awsValue }) }], keys: [{ accessKeyId: "AKIASWITCH", secretAccessKey: CANARY.awsSecretKey }] });
    return { table: 'provider = "aws"\nsecret_id = "prod/nb"', config: { provider: "aws", secret_id: "prod/nb" }, credentials: { AWS_ENDPOINT_URL: s.url, AWS_REGION: "eu-west-1", AWS_ACCESS_KEY_ID: "AKIASWITCH", AWS_SECRET_ACCESS_KEY: CANARY.awsSecretKey }, close: () => s.close() };
  },
  doppler: async () => {
    const s = await startDopplerServer({ projects: { nb: { dev: { MANAGER_VALUE: CANARY.dopplerValue } } }, serviceTokens: [{ token: CANARY.dopplerToken, project: "nb", config: "dev" }] });
    return { table: 'provider = "doppler"', config: { provider: "doppler" }, credentials: { DOPPLER_API_HOST: s.url, DOPPLER_TOKEN: CANARY.dopplerToken }, close: () => s.close() };
  },
};

describe("switching managers", () => {
  test.for(Object.keys(managers))("Infisical -> %s, saved in an editor: the next cell has the new manager's values only", async (name, { server, dir, makePlugin }) => {
    const m = await managers[name]!();
    try {
      await writeFile(join(dir, "notebook.toml"), notebookToml());
      const env: Record<string, string | undefined> = {};
      const p = makePlugin({ credentials: { ...identityCredentials(server), ...m.credentials }, env, watch: true });
      await p.open();
      const cell = (read: () => unknown) => {
        p.beforeCellRun({ id: "c" });
        try {
          return read();
        } finally {
          p.afterCellRun({ id: "c" });
        }
      };
      expect(cell(() => env["OPENAI_API_KEY"])).toBe(CANARY.openai);
      await writeFile(join(dir, "notebook.toml"), `[secret_manager]\n${m.table}\n\n[env]\nLOG_LEVEL = "info"\n`);
      await waitFor(() => cell(() => env["MANAGER_VALUE"] !== undefined), 10_000, `${name} values in the next cell`);
      expect(cell(() => env["OPENAI_API_KEY"])).toBeUndefined();
      expect(p.status()).toMatchObject({ provider: name, error: null });
    } finally {
      await m.close();
    }
  });

  test.for(Object.keys(managers))("Infisical -> %s from the panel's form (saveSecretManagerConfig); the form lists the provider's fields", async (name, { server, dir, makePlugin }) => {
    const m = await managers[name]!();
    try {
      await writeFile(join(dir, "notebook.toml"), notebookToml());
      const env: Record<string, string | undefined> = {};
      const p = makePlugin({ credentials: { ...identityCredentials(server), ...m.credentials }, env });
      await p.open();
      const described = await p.describeProviders();
      expect(described.map((d) => d.name)).toEqual(["infisical", "vault", "aws", "doppler", "files"]);
      const fields = described.find((d) => d.name === name)!.fields.map((f) => f.key);
      for (const key of Object.keys(m.config).filter((k) => k !== "provider")) expect(fields).toContain(key);
      await p.saveSecretManagerConfig(m.config);
      p.beforeCellRun({ id: "c" });
      expect(env["MANAGER_VALUE"]).toBeDefined();
      expect(env["OPENAI_API_KEY"]).toBeUndefined();
      p.afterCellRun({ id: "c" });
    } finally {
      await m.close();
    }
  });

  test("the form's field types follow each schema: Vault's kv_version is a choice of 1 or 2, Doppler's include_doppler_vars a checkbox", async ({ makePlugin }) => {
    const p = makePlugin();
    const described = await p.describeProviders();
    const field = (provider: string, key: string) => described.find((d) => d.name === provider)!.fields.find((f) => f.key === key);
    expect(field("vault", "kv_version")).toMatchObject({ type: "choice", choices: ["1", "2"] });
    expect(field("doppler", "include_doppler_vars")).toMatchObject({ type: "boolean" });
    expect(field("aws", "secret_id")).toMatchObject({ type: "string", title: "Secret ID" });
    await p.open();
    await p.saveSecretManagerConfig({ provider: "vault", path: "apps/nb", kv_version: "1" });
    expect(p.status().configError).toBeNull();
    await expect(p.saveSecretManagerConfig({ provider: "vault", path: "apps/nb", kv_version: 3 })).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });
});
