import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createKernel, type Kernel } from "../kernel/kernel.js";
import { startPanel, type Panel } from "../kernel/panel/server.js";
import { MASKED, type SecretManagerPlugin } from "../plugin/index.js";
import { describe, expect, openFetched, test as base } from "./fixtures.js";
import { CANARY, notebookToml, PROJECT, waitFor, writeNotebook } from "./helpers.js";
import { fuzz, malformedRequests, sendRaw } from "./http-fuzz.js";

type Call = (method: string, path: string, opts?: { body?: unknown; token?: string | null; headers?: Record<string, string> }) => Promise<{ status: number; headers: Headers; text: string; json: () => Record<string, any> }>;

/** A notebook with one cell, an open plugin (1 s deadline), a kernel and the panel; all closed after. */
const test = base.extend<{ plugin: SecretManagerPlugin; panel: Panel; call: Call }>({
  plugin: async ({ dir, makePlugin }, use) => {
    await writeNotebook(dir, notebookToml({ extra: '[[cells]]\nid = "show"\nfile = "show.js"\n' }));
    await mkdir(join(dir, "cells"));
    await writeFile(join(dir, "cells", "show.js"), 'console.log("key:", process.env.OPENAI_API_KEY);\n');
    let panel: Panel | null = null;
    const plugin = makePlugin({ env: process.env, watch: true, fetchTimeoutMs: 1_000, onEvent: () => panel?.notify() });
    await openFetched(plugin);
    await use(Object.assign(plugin, { attach: (p: Panel) => (panel = p) }));
  },
  panel: async ({ dir, plugin }, use) => {
    const kernel: Kernel = createKernel({ notebookDir: dir, plugins: [plugin], echo: false });
    const panel = await startPanel({ plugin, kernel });
    (plugin as unknown as { attach(p: Panel): void }).attach(panel);
    try {
      await use(panel);
    } finally {
      await panel.close();
      kernel.close();
    }
  },
  call: async ({ panel, seen }, use) => {
    await use(async (method, path, opts = {}) => {
      const headers: Record<string, string> = { ...opts.headers };
      if (opts.token !== null) headers["authorization"] = `Bearer ${opts.token ?? panel.token}`;
      if (opts.body !== undefined) headers["content-type"] = "application/json";
      const res = await fetch(`${panel.origin}${path}`, { method, headers, redirect: "manual", ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) });
      const text = await res.text();
      seen.push(text, JSON.stringify([...res.headers]));
      return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) as Record<string, any> };
    });
  },
});

describe("Runtime panel API", () => {
  test("requires the token; the page sets an HttpOnly cookie from ?token=", async ({ panel, call }) => {
    expect((await call("GET", "/api/state", { token: null })).status).toBe(401);
    expect((await call("GET", "/api/state", { token: "x".repeat(64) })).status).toBe(401);
    const page = await call("GET", `/?token=${panel.token}`, { token: null });
    expect(page.status).toBe(303);
    const cookie = page.headers.get("set-cookie")!;
    expect(cookie).toMatch(/HttpOnly; SameSite=Strict/);
    const withCookie = await call("GET", "/api/state", { token: null, headers: { cookie: cookie.split(";")[0]! } });
    expect(withCookie.status).toBe(200);
  });

  test("refuses a foreign Host (DNS rebinding) or Origin (cross-site)", async ({ panel, call }) => {
    // fetch() will not let a caller set Host, so use node:http for that one.
    const { request } = await import("node:http");
    const status = await new Promise<number>((resolve) => {
      const req = request(`${panel.origin}/api/state`, { headers: { host: "evil.example.test", authorization: `Bearer ${panel.token}` } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.end();
    });
    expect(status).toBe(403);
    expect((await call("PUT", "/api/env", { body: { env: {} }, headers: { origin: "http://evil.example.test" } })).status).toBe(403);
    expect((await call("GET", "/api/state", { headers: { origin: panel.origin } })).status).toBe(200);
  });

  test("GET /api/state: masked env, rows and the secret-manager block, no value", async ({ call }) => {
    const state = (await call("GET", "/api/state")).json();
    expect(state["env"]).toMatchObject({ LOG_LEVEL: "info", OPENAI_API_KEY: MASKED, DATABASE_URL: MASKED });
    expect(state["rows"].find((r: { key: string }) => r.key === "OPENAI_API_KEY")).toMatchObject({ source: "infisical", sensitive: true });
    expect(state["secretManager"]).toMatchObject({ provider: "infisical", error: null, fetching: false, config: { project_id: PROJECT, path: "/" } });
  });

  test("PUT /api/env: marker keeps, missing removes, new replaces; 400 for bad names and values", async ({ dir, call }) => {
    const state = (await call("PUT", "/api/env", { body: { env: { LOG_LEVEL: "debug", OPENAI_API_KEY: MASKED, NEW_ONE: "x" } } })).json();
    expect(state["env"]).toMatchObject({ LOG_LEVEL: "debug", NEW_ONE: "x", OPENAI_API_KEY: MASKED });
    const disk = await readFile(join(dir, "notebook.toml"), "utf8");
    expect(disk).toContain('LOG_LEVEL = "debug"\nOPENAI_API_KEY = ""\nNEW_ONE = "x"'); // edited in place, the new key after the last
    for (const body of [{ env: { "1X": "a" } }, { env: { A: "a\0b" } }, { env: { A: 3 } }, { nope: 1 }, { env: [] }]) {
      const r = await call("PUT", "/api/env", { body });
      expect(r.status).toBe(400);
      expect(r.json()["error"]).toBeTruthy();
    }
    // One rule for names and values (the plugin's): a multi-line value is a valid env value.
    const multi = await call("PUT", "/api/env", { body: { env: { ...state["env"], PEM_LIKE: "line1\nline2" } } });
    expect(multi.status).toBe(200);
    expect((await readFile(join(dir, "notebook.toml"), "utf8"))).toContain('PEM_LIKE = "line1\\nline2"');
  });

  test("PUT /api/secret-manager switches config (reload + fetch); an empty payload disconnects", async ({ dir, call }) => {
    const state = (await call("PUT", "/api/secret-manager", { body: { provider: "infisical", project_id: PROJECT, environment: "dev", path: "/app", base_url: "" } })).json();
    expect(state["rows"].map((r: { key: string }) => r.key)).toContain("APP_SECRET");
    expect(await readFile(join(dir, "notebook.toml"), "utf8")).toContain('path = "/app"');
    const off = (await call("PUT", "/api/secret-manager", { body: {} })).json();
    expect(off["secretManager"]["config"]).toBeNull();
    expect(off["rows"].filter((r: { source: string }) => r.source === "infisical")).toEqual([]);
  });

  test("POST refresh answers 200 with the error in the state when the manager is down", async ({ server, call }) => {
    server.faults.hang = true;
    const r = await call("POST", "/api/secret-manager/refresh");
    expect(r.status).toBe(200);
    expect(r.json()["secretManager"]["error"]).toBe("The secret manager did not answer within 1s.");
    expect(r.json()["rows"].find((x: { key: string }) => x.key === "OPENAI_API_KEY")).toMatchObject({ stale: true });
  });

  test("POST /api/run runs the cells and returns masked output", async ({ call }) => {
    const r = (await call("POST", "/api/run")).json();
    expect(r["cells"]).toEqual([{ id: "show", ok: true, stdout: "key: ***\n", stderr: "" }]);
  });

  test("GET /api/events streams a state frame after a save on disk (names only)", async ({ dir, panel, seen }) => {
    const controller = new AbortController();
    const res = await fetch(`${panel.origin}/api/events`, { headers: { authorization: `Bearer ${panel.token}` }, signal: controller.signal });
    const reader = res.body!.getReader();
    let text = "";
    const frames = () => text.split("\n\n").filter((f) => f.startsWith("event: state"));
    const pump = (async () => {
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) return;
        text += new TextDecoder().decode(value);
      }
    })();
    await waitFor(() => frames().length >= 1, 5_000, "first frame");
    await writeFile(join(dir, "notebook.toml"), notebookToml({ env: 'LOG_LEVEL = "info"\nFROM_DISK = "yes"' }));
    await waitFor(() => frames().some((f) => f.includes("FROM_DISK")), 5_000, "frame with FROM_DISK");
    controller.abort();
    await pump;
    seen.push(text);
    expect(text).not.toContain(CANARY.openai);
  });
});

describe("the panel survives what clients send", () => {
  test("GET //[ and http://[::1 get 400, a 64-byte non-ASCII token 401; the panel keeps serving", async ({ panel, call }) => {
    const port = Number(new URL(panel.origin).port);
    expect(await sendRaw(port, `GET //[ HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`)).toBe(400);
    expect(await sendRaw(port, `GET http://[::1 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`)).toBe(400);
    expect((await call("GET", "/api/state", { token: "é".repeat(32) })).status).toBe(401);
    expect((await call("GET", "/api/state")).status).toBe(200);
  });

  test("a few hundred malformed request lines, headers and bodies: 4xx or closed, never 5xx; then an authenticated GET works", async ({ panel, call }) => {
    const port = Number(new URL(panel.origin).port);
    const statuses = await fuzz(port, malformedRequests(`127.0.0.1:${port}`, panel.token, 300));
    expect(statuses).toHaveLength(300);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(statuses.filter((s) => s === 400).length).toBeGreaterThan(50);
    expect(statuses.filter((s) => s === 401).length).toBeGreaterThan(10);
    const state = await call("GET", "/api/state");
    expect(state.status).toBe(200);
    expect(state.json()["rows"].length).toBeGreaterThan(0);
  });
});

describe("stale saves", () => {
  test("a save based on an older revision is refused with 409 and the current state; nothing is written", async ({ dir, call }) => {
    const before = (await call("GET", "/api/state")).json();
    await writeFile(join(dir, "notebook.toml"), notebookToml({ env: 'LOG_LEVEL = "info"\nTEAMMATE = "added"', extra: '[[cells]]\nid = "show"\nfile = "show.js"\n' }));
    await waitFor(async () => (await call("GET", "/api/state")).json()["revision"] !== before["revision"], 15_000, "the edit to be read");
    const stale = await call("PUT", "/api/env", { body: { env: { ...before["env"], MINE: "x" }, revision: before["revision"] } });
    expect(stale.status).toBe(409);
    expect(stale.json()["error"]).toMatch(/changed since these values were shown/);
    expect(stale.json()["state"]["env"]).toMatchObject({ TEAMMATE: "added" });
    const disk = await readFile(join(dir, "notebook.toml"), "utf8");
    expect(disk).toContain('TEAMMATE = "added"');
    expect(disk).not.toContain("MINE");
    const fresh = stale.json()["state"];
    expect((await call("PUT", "/api/env", { body: { env: { ...fresh["env"], MINE: "x" }, revision: fresh["revision"] } })).status).toBe(200);
  });
});
