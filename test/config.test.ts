import { getEventListeners } from "node:events";
import { beforeAll, describe, expect, it } from "vitest";
import { loadNotebookParser, sectionKey, type NotebookParser } from "../plugin/config.js";
import { builtinProviders, createRegistry, runProvider } from "../plugin/registry.js";
import type { FetchResult, SecretProvider } from "../plugin/types.js";

const CANARY = "canary-config-value-3e9f";

let parseNotebook: NotebookParser;
beforeAll(async () => {
  parseNotebook = await loadNotebookParser(builtinProviders());
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
    expect(p.secretManager).toEqual({ provider: "infisical", source: "infisical", settings: { project_id: "p1" }, refreshIntervalMs: null });
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

  it("trims values, drops empty ones, keys configs; a UTF-8 BOM is not an error", () => {
    const p = parseNotebook('\uFEFF[secret_manager]\nprovider = " infisical "\npath = "  "\n');
    expect(p).toMatchObject({ errors: [], secretManager: { provider: "infisical", settings: {} } });
    expect(parseNotebook('[secret_manager]\npath = ""\n').secretManager).toBeNull();
    const a = { provider: "a", source: "a", settings: {}, refreshIntervalMs: null };
    expect(sectionKey(a)).toBe(sectionKey({ ...a }));
    expect(sectionKey(a)).not.toBe(sectionKey({ ...a, settings: { path: "/x" } }));
    expect(sectionKey({ ...a, settings: { x: "1", y: "2" } })).toBe(sectionKey({ ...a, settings: { y: "2", x: "1" } }));
    expect(sectionKey(a)).not.toBe(sectionKey({ ...a, refreshIntervalMs: 60_000 }));
  });

  it("line breaks and control characters in [secret_manager] values are refused, never echoed", () => {
    const p = parseNotebook(`[secret_manager]\nprovider = "infisical"\npath = "/a\\n${CANARY}"\n`);
    expect(p.errors).toEqual(["[secret_manager].path: must not contain line breaks or control characters"]);
  });
});

describe("provider registry", () => {
  const ctx = { signal: new AbortController().signal, timeoutMs: 300 };
  const ok = (secrets: Record<string, unknown>): FetchResult => ({ secrets, fetchedAt: "2026-01-01T00:00:00.000Z", error: null }) as FetchResult;
  const provider = (name: string, fetch: SecretProvider["fetch"]): SecretProvider => ({ name, credentialNames: [], configSchema: (z) => z.strictObject({}), fetch });

  it("unknown provider", async () => {
    const r = await runProvider(createRegistry({}, {}), "onepassword", {}, ctx);
    expect(r.error).toBe("Unknown secret provider: 'onepassword'");
  });

  it("leaves no listener on the long-lived close signal after each fetch (no leak per fetch)", async () => {
    const lifetime = new AbortController();
    const reg = createRegistry({ mem: provider("mem", async (_c, c) => (c.signal.addEventListener("abort", () => undefined), ok({}))) }, {});
    for (let i = 0; i < 50; i++) await runProvider(reg, "mem", {}, { ...ctx, signal: lifetime.signal });
    expect(getEventListeners(lifetime.signal, "abort")).toHaveLength(0);
  });

  it("custom providers: results checked, throws and hangs become failures", async () => {
    const good = provider("mem", async () => ({ ...ok({ A: "1" }), refused: { B: "an object", C: 3 as unknown as string }, versions: { A: "7" } }));
    const garbage = provider("bad", async () => ok({ A: 1 }));
    const thrower = provider("boom", async () => {
      throw new Error("kaput");
    });
    const hang = provider("hang", () => new Promise(() => undefined));
    const reg = createRegistry({ mem: good, bad: garbage, boom: thrower, hang }, {});
    expect(await runProvider(reg, "mem", {}, ctx)).toEqual({ secrets: { A: "1" }, refused: { B: "an object" }, versions: { A: "7" }, error: null, fetchedAt: "2026-01-01T00:00:00.000Z" });
    expect((await runProvider(reg, "bad", {}, ctx)).error).toMatch(/non-string value for 'A'/);
    expect((await runProvider(reg, "boom", {}, ctx)).error).toMatch(/threw: kaput/);
    const started = Date.now();
    expect((await runProvider(reg, "hang", {}, ctx)).error).toBe("The secret manager did not answer within 0.3s.");
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });
});
