import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startInfisicalServer, type InfisicalServer } from "../fixtures/infisical-server/index.js";
import { fuzz, malformedRequests } from "./http-fuzz.js";

// A copy of shared/infisical-captures kept in the repository, so a clone anywhere passes.
const CAPTURES = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "infisical-captures");
const CLIENT_ID = "3a76bf10-6b5e-4d28-86b7-ddc67f361116";
const CLIENT_SECRET = "fidelity-client-secret";
const SHORT_ID = "98cc2d5b-5f8a-40ce-827f-e04c5f9f37ed";

interface Capture {
  request: { method: string; path: string; query: Record<string, string>; headers: Record<string, string>; body: unknown };
  response: { status: number; headers: Record<string, string>; body: unknown };
}

const load = (name: string): Capture => JSON.parse(readFileSync(join(CAPTURES, `${name}.json`), "utf8")) as Capture;

/** Values compared exactly; everything else (ids, dates, tokens) by type only. */
const EXACT = new Set(["message", "error", "statusCode", "secretKey", "secretValue", "secretPath", "type", "tokenType", "expiresIn", "accessTokenMaxTTL", "environment", "workspace", "version", "code", "expected", "received", "path"]);

function shape(want: unknown, got: unknown, where: string, exact = false): string[] {
  if (Array.isArray(want)) {
    if (!Array.isArray(got)) return [`${where}: expected an array`];
    if (want.length !== got.length) return [`${where}: expected ${want.length} items, got ${got.length}`];
    const byKey = (xs: unknown[]) => [...xs].sort((a, b) => String((a as { secretKey?: string }).secretKey ?? "").localeCompare(String((b as { secretKey?: string }).secretKey ?? "")));
    const w = byKey(want);
    const g = byKey(got);
    return w.flatMap((item, i) => shape(item, g[i], `${where}[${i}]`, exact));
  }
  if (want && typeof want === "object") {
    if (!got || typeof got !== "object") return [`${where}: expected an object`];
    const wk = Object.keys(want).sort();
    const gk = Object.keys(got).sort();
    if (wk.join() !== gk.join()) return [`${where}: keys ${gk.join(",")} != ${wk.join(",")}`];
    return wk.flatMap((k) => shape((want as Record<string, unknown>)[k], (got as Record<string, unknown>)[k], `${where}.${k}`, EXACT.has(k)));
  }
  if (want === null) return got === null ? [] : [`${where}: expected null`];
  if (typeof want !== typeof got) return [`${where}: expected ${typeof want}, got ${typeof got}`];
  if (exact && want !== got) return [`${where}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`];
  return [];
}

/** Headers whose presence is compared (values vary: dates, etags, ports). */
const HEADERS = ["content-type", "x-content-type-options", "x-frame-options", "strict-transport-security", "referrer-policy", "vary", "retry-after", "x-ratelimit-limit", "x-ratelimit-remaining"];

let server: InfisicalServer;
let limited: InfisicalServer;

async function login(target: InfisicalServer, clientId = CLIENT_ID, clientSecret = CLIENT_SECRET): Promise<string> {
  const res = await fetch(`${target.url}/api/v1/auth/universal-auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ clientId, clientSecret }) });
  return ((await res.json()) as { accessToken: string }).accessToken;
}

async function replay(target: InfisicalServer, capture: Capture, token: string | null, body?: string): Promise<{ status: number; headers: Headers; body: unknown }> {
  const url = new URL(capture.request.path, target.url);
  for (const [k, v] of Object.entries(capture.request.query)) url.searchParams.set(k, v);
  const headers: Record<string, string> = {};
  if (token !== null) headers["authorization"] = `Bearer ${token}`;
  let payload: string | undefined;
  if (capture.request.method === "POST") {
    headers["content-type"] = "application/json";
    payload = body ?? (typeof capture.request.body === "string" ? capture.request.body : JSON.stringify(capture.request.body).replace("<client-secret>", CLIENT_SECRET));
  }
  const res = await fetch(url, { method: capture.request.method, headers, ...(payload !== undefined ? { body: payload } : {}) });
  return { status: res.status, headers: res.headers, body: await res.json() };
}

function seed() {
  return {
    projects: [
      {
        id: "722b7d80-acda-4b40-ae0b-a9f9dfeaaad4",
        slug: "fidelity-test",
        secrets: {
          dev: {
            "/": { DATABASE_URL: "postgres://user:pass@db:5432/app", API_KEY: "sk_test_123456", REF_EXAMPLE: "prefix-${API_KEY}-suffix" },
            "/app": { APP_SECRET: "app-folder-value", APP_PORT: "3000" },
          },
        },
      },
      { id: "acb4e9e0-170f-413e-8a31-4c555033f4c2", secrets: { dev: { "/": { X: "y" } } } },
    ],
    identities: [
      { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, projects: ["722b7d80-acda-4b40-ae0b-a9f9dfeaaad4"] },
      { clientId: SHORT_ID, clientSecret: CLIENT_SECRET, accessTokenTTL: 2 },
    ],
    serviceTokens: [{ token: "st.fidelity.service-secret", projectId: "722b7d80-acda-4b40-ae0b-a9f9dfeaaad4", environment: "dev", secretPath: "/" }],
  };
}

beforeAll(async () => {
  server = await startInfisicalServer(seed());
  limited = await startInfisicalServer({ ...seed(), rateLimit: { limit: 0, windowMs: 60_000, answer: 500 } });
});
afterAll(async () => {
  await server.close();
  await limited.close();
});

function compare(capture: Capture, got: { status: number; headers: Headers; body: unknown }): void {
  expect(got.status).toBe(capture.response.status);
  expect(shape(capture.response.body, got.body, "body")).toEqual([]);
  for (const h of HEADERS) expect(got.headers.has(h), `header ${h}`).toBe(h in capture.response.headers);
}

describe("fixture server answers like the captured Infisical server", () => {
  it.each([
    "list-raw-ok-root",
    "list-raw-ok-exact-sdk-query",
    "list-raw-ok-expand-refs",
    "list-raw-ok-recursive",
    "list-raw-ok-app-folder",
    "list-raw-ok-sdk-default-params",
    "list-raw-ok-workspace-slug",
    "list-raw-path-trailing-slash",
    "list-raw-nonexistent-path",
    "list-raw-wrong-environment",
    "list-raw-wrong-project-id-not-uuid",
    "list-raw-wrong-project-id-random-uuid",
    "list-raw-project-without-access",
    "list-raw-missing-environment",
    "list-raw-missing-workspace",
    "get-secret-raw-ok",
    "get-secret-raw-not-found",
    "get-secret-raw-wrong-env",
  ])("%s", async (name) => {
    const capture = load(name);
    compare(capture, await replay(server, capture, await login(server)));
  });

  it.each([
    ["list-raw-no-auth-header", null],
    ["list-raw-garbage-token", "garbage"],
    ["list-raw-bad-signature-jwt", "eyJhbGciOiJIUzI1NiJ9.eyJpZGVudGl0eUlkIjoieCIsImV4cCI6OTk5OTk5OTk5OX0.wrong-signature"],
    ["list-raw-service-token-ok", "st.fidelity.service-secret"],
    ["list-raw-service-token-no-params", "st.fidelity.service-secret"],
    ["list-raw-service-token-other-env", "st.fidelity.service-secret"],
    ["list-raw-service-token-malformed", "st.fidelity.wrong"],
  ])("%s", async (name, token) => {
    const capture = load(name);
    compare(capture, await replay(server, capture, token));
  });

  it.each(["ua-login-ok", "ua-login-bad-secret", "ua-login-unknown-client-id", "ua-login-missing-fields", "ua-login-non-json-body", "status", "v4-secrets-route-absent"])("%s", async (name) => {
    const capture = load(name);
    const body = name === "ua-login-bad-secret" ? JSON.stringify({ clientId: CLIENT_ID, clientSecret: "0".repeat(64) }) : undefined;
    compare(capture, await replay(server, capture, null, body));
  });

  it("ua-login-ok-short-ttl and list-raw-expired-token-real", async () => {
    const loginCapture = load("ua-login-ok-short-ttl");
    const res = await replay(server, { ...loginCapture, request: { ...loginCapture.request, body: { clientId: SHORT_ID, clientSecret: CLIENT_SECRET } } }, null);
    compare(loginCapture, res);
    const token = (res.body as { accessToken: string }).accessToken;
    const exp = (JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString()) as { exp: number }).exp;
    const fresh = load("list-raw-short-ttl-token-fresh");
    expect((await replay(server, fresh, token)).status).toBe(200);
    // A short-TTL token: at most 2 s left now (time passing can only make it less).
    expect(exp * 1000 - Date.now()).toBeLessThanOrEqual(2_000);
    // Wait for the clock, not an event: the token's lifetime has to pass.
    while (Date.now() < exp * 1000 + 50) await new Promise((r) => setTimeout(r, 50));
    compare(load("list-raw-expired-token-real"), await replay(server, load("list-raw-expired-token-real"), token));
  });

  it("token-renew deletes the token, then list-raw-token-deleted-by-failed-renew", async () => {
    const token = await login(server);
    const renew = load("token-renew");
    compare(renew, await replay(server, renew, null, JSON.stringify({ accessToken: token })));
    const after = load("list-raw-token-deleted-by-failed-renew");
    compare(after, await replay(server, after, token));
  });

  it("token-revoke, then list-raw-revoked-token", async () => {
    const token = await login(server);
    const revoke = load("token-revoke");
    compare(revoke, await replay(server, revoke, null, JSON.stringify({ accessToken: token })));
    const after = load("list-raw-revoked-token");
    compare(after, await replay(server, after, token));
  });

  it("list-raw-rate-limited (500 with retry-after, as this server version answers)", async () => {
    const capture = load("list-raw-rate-limited");
    compare(capture, await replay(limited, capture, await login(limited)));
  });

  it("the SDK's own exchanges (sdk-5.0.2-proxy-log.jsonl)", async () => {
    const lines = readFileSync(join(CAPTURES, "sdk-5.0.2-proxy-log.jsonl"), "utf8").trim().split("\n");
    const token = await login(server);
    for (const line of lines) {
      const entry = JSON.parse(line) as { request: { method: string; url: string; body: string }; response: { status: number; body: string } };
      const url = new URL(entry.request.url, server.url);
      const isLogin = url.pathname.endsWith("/login");
      const body = isLogin ? entry.request.body.replace("<client-secret>", CLIENT_SECRET) : undefined;
      const res = await fetch(url, {
        method: entry.request.method,
        headers: isLogin ? { "content-type": "application/json" } : { authorization: `Bearer ${token}` },
        ...(body !== undefined ? { body } : {}),
      });
      const got: unknown = await res.json();
      const want: unknown = JSON.parse(entry.response.body);
      if (isLogin && entry.response.status !== 200) continue; // those used other client ids/secrets
      if (entry.response.status === 403) continue; // recorded with a foreign project's token
      expect(res.status, entry.request.url).toBe(entry.response.status);
      expect(shape(want, got, entry.request.url)).toEqual([]);
    }
  });
});

describe("the fixture server (also `strata-secrets dev-server`) survives what clients send", () => {
  it("malformed requests get 4xx or a closed socket, never a crash; a login works after", async () => {
    const host = new URL(server.url).host;
    const statuses = await fuzz(server.port, [`GET //[ HTTP/1.1\r\nHost: ${host}\r\n\r\n`, ...malformedRequests(host, "x".repeat(64), 200)]);
    expect(statuses[0]).toBe(400);
    expect(statuses.filter((s) => s >= 500 && s !== 500)).toEqual([]); // its own 500s are the captured "Something went wrong"
    expect(await login(server)).toMatch(/^ey/);
  });
});
