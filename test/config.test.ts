import { getEventListeners } from "node:events";
import { beforeAll, describe, expect, it } from "vitest";
import { loadNotebookParser, normalizeSecretManager, secretManagerKey, type NotebookParser } from "../plugin/config.js";
import { runProvider, createRegistry } from "../plugin/registry.js";
import type { SecretProvider } from "../plugin/types.js";

const CANARY = "canary-config-value-3e9f";

let parseNotebook: NotebookParser;
beforeAll(async () => {
  parseNotebook = await loadNotebookParser();
});

describe("notebook.toml config", () => {
  it("reads [secret_manager], [env] and [[cells]] and ignores other tables", () => {
    const p = parseNotebook(`
title = "x"
[secret_manager]
provider = "infisical"
project_id = " p1 "
path = ""
[env]
LOG_LEVEL = "info"
[[cells]]
id = "c1"
file = "c1.js"
language = "javascript"
order = 1
extra = true
env = { A = "1" }
[[cells]]
id = "c2"
[other]
anything = [1, 2]
`);
    expect(p.errors).toEqual([]);
    expect(p.secretManager).toEqual({ provider: "infisical", project_id: "p1" });
    expect([...p.env!]).toEqual([["LOG_LEVEL", "info"]]);
    expect(p.cells!.map((c) => [c.id, c.file, c.order, [...c.env]])).toEqual([
      ["c1", "c1.js", 1, [["A", "1"]]],
      ["c2", undefined, undefined, []],
    ]);
  });

  it("no [secret_manager] -> null, no error", () => {
    expect(parseNotebook("[env]\nA = 'b'\n")).toMatchObject({ secretManager: null, errors: [] });
  });

  it("an unknown key in [secret_manager] is an error naming the key, never the value", () => {
    const p = parseNotebook(`[secret_manager]\nprovider = "infisical"\nprojet_id = "${CANARY}"\n`);
    expect(p.secretManager).toBeUndefined();
    expect(p.errors.join()).toMatch(/projet_id/);
    expect(p.errors.join()).not.toContain(CANARY);
  });

  it("wrong types name the field and keep the other sections", () => {
    const p = parseNotebook(`[secret_manager]\nprovider = 3\n[env]\nPORT = 8080\nOK = "${CANARY}"\n`);
    expect(p.errors.join("|")).toMatch(/\[secret_manager\]\.provider: must be a string/);
    expect(p.errors.join("|")).toMatch(/\[env\]\.PORT: must be a string/);
    expect(p.errors.join()).not.toContain(CANARY);
    expect(p.cells).toEqual([]);
  });

  it("invalid TOML gives the line and column, never the text", () => {
    const p = parseNotebook(`[env]\nOPENAI_API_KEY = "${CANARY}\n`);
    expect(p.secretManager).toBeUndefined();
    expect(p.env).toBeUndefined();
    expect(p.errors[0]).toMatch(/^notebook.toml is not valid TOML \(line \d+, column \d+\)$/);
    expect(p.errors.join()).not.toContain(CANARY);
  });

  it("normalizes and keys configs", () => {
    expect(normalizeSecretManager({ provider: " infisical ", path: "  " })).toEqual({ provider: "infisical" });
    expect(normalizeSecretManager({ path: "" })).toBeNull();
    expect(secretManagerKey({ provider: "a" })).toBe(secretManagerKey({ provider: "a" }));
    expect(secretManagerKey({ provider: "a" })).not.toBe(secretManagerKey({ provider: "a", path: "/x" }));
  });
});

describe("provider registry", () => {
  const ctx = { signal: new AbortController().signal, timeoutMs: 300, credentials: {} };

  it("unknown provider", async () => {
    const r = await runProvider(createRegistry(), { provider: "vault" }, ctx);
    expect(r.error).toBe("Unknown secret provider: 'vault'");
  });

  it("missing provider names `provider`", async () => {
    const r = await runProvider(createRegistry(), { project_id: "p" }, ctx);
    expect(r.error).toMatch(/provider/);
  });

  it("leaves no listener on the long-lived close signal after each fetch (no leak per fetch)", async () => {
    const lifetime = new AbortController();
    const reg = createRegistry({ mem: { name: "mem", fetch: async (_c, c) => (c.signal.addEventListener("abort", () => undefined), { secrets: {}, source: "mem", fetchedAt: "", error: null }) } });
    for (let i = 0; i < 50; i++) await runProvider(reg, { provider: "mem" }, { ...ctx, signal: lifetime.signal });
    expect(getEventListeners(lifetime.signal, "abort")).toHaveLength(0);
  });

  it("custom providers: results checked, throws and hangs become failures", async () => {
    const good: SecretProvider = { name: "mem", fetch: async () => ({ secrets: { A: "1" }, source: "mem", fetchedAt: "2026-01-01T00:00:00.000Z", error: null }) };
    const garbage = { name: "bad", fetch: async () => ({ secrets: { A: 1 } }) } as unknown as SecretProvider;
    const thrower: SecretProvider = { name: "boom", fetch: async () => { throw new Error("kaput"); } };
    const hang: SecretProvider = { name: "hang", fetch: () => new Promise(() => undefined) };
    const reg = createRegistry({ mem: good, bad: garbage, boom: thrower, hang });
    expect(await runProvider(reg, { provider: "mem" }, ctx)).toMatchObject({ secrets: { A: "1" }, error: null, source: "mem" });
    expect((await runProvider(reg, { provider: "bad" }, ctx)).error).toMatch(/non-string value for 'A'/);
    expect((await runProvider(reg, { provider: "boom" }, ctx)).error).toMatch(/threw: kaput/);
    const started = Date.now();
    expect((await runProvider(reg, { provider: "hang" }, ctx)).error).toBe("The secret manager did not answer within 0.3s.");
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
