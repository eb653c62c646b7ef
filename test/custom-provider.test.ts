// A provider written outside the package, registered through `providers`: protocol v2 end to
// end (config schema, credentials snapshot and scrub, badge, errors, refusals, deadline)
// with no change to any core file.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { FetchContext, ProviderConfig, SecretProvider } from "../plugin/index.js";
import { describe, expect, test } from "./fixtures.js";
import { CANARY, writeNotebook } from "./helpers.js";

const MEMO_TOKEN = "memo-token-canary-77d1e0";

/** "Memo": a manager that keeps buckets of secrets in memory, behind a token. */
function memoProvider(buckets: Map<string, Record<string, string>>) {
  const seen: { config: ProviderConfig; credentials: FetchContext["credentials"]; aborted: boolean }[] = [];
  const provider: SecretProvider = {
    name: "memo",
    credentialNames: ["MEMO_TOKEN"],
    settingNames: ["MEMO_REGION"],
    configSchema: (z) => z.strictObject({ bucket: z.string().meta({ title: "Bucket" }), hang: z.boolean().optional() }),
    async fetch(config, ctx) {
      const call = { config, credentials: ctx.credentials, aborted: false };
      seen.push(call);
      const at = new Date().toISOString();
      if (ctx.credentials["MEMO_TOKEN"] !== MEMO_TOKEN) return { secrets: {}, fetchedAt: at, error: "No Memo credentials in the process environment. Set MEMO_TOKEN in the shell that launched Strata." };
      if (config["hang"] === true) {
        await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve(), { once: true }));
        call.aborted = ctx.signal.aborted;
        return { secrets: { LATE: "late-value" }, fetchedAt: at, error: null };
      }
      const bucket = buckets.get(String(config["bucket"]));
      if (!bucket) return { secrets: {}, fetchedAt: at, error: `Memo read failed: no bucket '${String(config["bucket"])}'` };
      const secrets: Record<string, string> = {};
      const refused: Record<string, string> = {};
      for (const [k, v] of Object.entries(bucket)) {
        if (v.startsWith("{")) refused[k] = "the value is an object, not a string";
        else secrets[k] = v;
      }
      return { secrets, refused, fetchedAt: at, error: null };
    },
  };
  return { provider, seen };
}

describe("a custom provider (protocol v2)", () => {
  test("fetch, credential scrub, badge, refusals, errors and the one deadline", async ({ dir, makePlugin }) => {
    const { provider, seen } = memoProvider(new Map([["b1", { MEMO_SECRET: CANARY.openai, PLAIN: "plain", NESTED: '{"a":1}' }]]));
    await writeNotebook(dir, '[secret_manager]\nprovider = "memo"\nbucket = "b1"\n');
    const env: Record<string, string> = { MEMO_TOKEN, HOME: "/home/me" };
    const source = { MEMO_TOKEN, MEMO_REGION: "eu", INFISICAL_CLIENT_SECRET: CANARY.clientSecret };
    const p = makePlugin({ env, credentials: source, providers: { memo: provider }, fetchTimeoutMs: 400 });

    // Its credential left the cells' env at creation; it got only its own names.
    expect(env["MEMO_TOKEN"]).toBeUndefined();
    await p.open();
    expect(seen[0]!.config).toEqual({ bucket: "b1" });
    expect(seen[0]!.credentials).toEqual({ MEMO_TOKEN, MEMO_REGION: "eu" });
    expect(Object.isFrozen(seen[0]!.credentials)).toBe(true);

    // Values, badge, refused rows.
    p.beforeCellRun({ id: "c" });
    expect(env).toMatchObject({ MEMO_SECRET: CANARY.openai, PLAIN: "plain" });
    expect(env["NESTED"]).toBeUndefined();
    const rows = Object.fromEntries(p.rows().map((r) => [r.key, r]));
    expect(rows["MEMO_SECRET"]).toMatchObject({ source: "memo", sensitive: true, hidden: true, stale: false });
    expect(rows["NESTED"]).toMatchObject({ source: "memo", refused: "the value is an object, not a string" });
    expect(p.maskOutput(`k=${CANARY.openai}`)).toBe("k=***");
    p.afterCellRun({ id: "c" });

    // The form of the Runtime panel comes from its schema.
    const described = (await p.describeProviders()).find((d) => d.name === "memo");
    expect(described).toEqual({ name: "memo", badge: "MEMO", fields: [{ key: "bucket", title: "Bucket", type: "string" }, { key: "hang", title: "hang", type: "boolean" }, expect.objectContaining({ key: "refresh_interval", type: "string" })] });

    // Its own config keys are validated by its schema; a typo names the expected keys.
    await expect(p.saveSecretManagerConfig({ provider: "memo", bucket: 3 as unknown as string })).rejects.toThrow("saveSecretManagerConfig.bucket: must be a string");

    // Its error message reaches status(); the last good values stay (stale).
    await p.saveSecretManagerConfig({ provider: "memo", bucket: "b1" });
    await p.saveSecretManagerConfig({ provider: "memo", bucket: "nope" });
    expect(p.status()).toMatchObject({ provider: "memo", fetchError: "Memo read failed: no bucket 'nope'" });
    expect(await readFile(join(dir, "notebook.toml"), "utf8")).toBe('[secret_manager]\nprovider = "memo"\nbucket = "nope"\n');

    // The registry owns the deadline: the provider sees its signal abort; a late answer is dropped.
    await p.saveSecretManagerConfig({ provider: "memo", bucket: "b1", hang: true });
    expect(p.status().fetchError).toBe("The secret manager did not answer within 0.4s.");
    expect(seen.at(-1)!.aborted).toBe(true);
    expect(p.rows().map((r) => r.key)).not.toContain("LATE");

    await p.close();
    expect(env["MEMO_TOKEN"]).toBe(MEMO_TOKEN);
  });

  test("a typo in its keys is a config error listing its keys; no fetch", async ({ dir, makePlugin }) => {
    const { provider, seen } = memoProvider(new Map());
    await writeNotebook(dir, '[secret_manager]\nprovider = "memo"\nbuckit = "b1"\n');
    const p = makePlugin({ providers: { memo: provider } });
    await p.open();
    expect(p.status().configError).toBe("[secret_manager].bucket: is missing; [secret_manager]: unknown key 'buckit' (expected one of provider, bucket, hang, refresh_interval)");
    expect(seen).toHaveLength(0);
  });

  test("a provider that does not follow the protocol is a TypeError naming it", ({ makePlugin }) => {
    const broken = { name: "x", fetch: async () => ({}) } as unknown as SecretProvider;
    expect(() => makePlugin({ providers: { x: broken } })).toThrow(new TypeError("createSecretManagerPlugin: `providers.x` must have `credentialNames`: string[]"));
  });
});
