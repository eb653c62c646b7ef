import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { InfisicalServer } from "../fixtures/infisical-server/index.js";
import { createInfisicalProvider, NO_CREDENTIALS_MESSAGE, statusOf } from "../plugin/providers/infisical.js";
import { runProvider, type Registry } from "../plugin/registry.js";
import type { FetchResult, ProviderConfig, SecretProvider } from "../plugin/types.js";
import { GENEROUS_MS } from "./fixtures.js";
import { CANARY, canariesIn, identityCredentials, PROJECT, startFixture, waitFor } from "./helpers.js";

let server: InfisicalServer;
let provider: SecretProvider;
const results: unknown[] = [];

beforeEach(async () => {
  server = await startFixture();
  provider = createInfisicalProvider({ retryMinTimeoutMs: 20 });
});
afterEach(async () => {
  await provider.close?.();
  await server.close();
  // Credentials and fetched values never appear in a result's error or the request log.
  expect(canariesIn(results.map((r) => (r as FetchResult).error))).toEqual([]);
  expect(canariesIn(server.requests)).toEqual([]);
  results.length = 0;
});

/** One fetch through the registry, which owns the deadline. */
async function fetchWith(config: ProviderConfig, credentials: Record<string, string>, timeoutMs = GENEROUS_MS): Promise<FetchResult> {
  const registry: Registry = { providers: new Map([["infisical", provider]]), credentials: new Map([["infisical", credentials]]), credentialNames: new Set(), credentialValues: [], close: async () => undefined };
  const result = await runProvider(registry, "infisical", config, { signal: new AbortController().signal, timeoutMs });
  results.push(result);
  return result;
}
const base: ProviderConfig = { project_id: PROJECT, environment: "dev", path: "/" };

describe("infisical provider", () => {
  it("logs in with a Machine Identity and lists the folder's secrets", async () => {
    const r = await fetchWith(base, identityCredentials(server));
    expect(r.error).toBeNull();
    expect(r.secrets).toEqual({ OPENAI_API_KEY: CANARY.openai, DATABASE_URL: CANARY.db, API_HOST: "api.example.test" });
    expect(new Date(r.fetchedAt).toISOString()).toBe(r.fetchedAt);
    expect(server.logins()).toBe(1);
    const list = server.requests.find((q) => q.path === "/api/v3/secrets/raw")!;
    expect(list.query).toMatchObject({ workspaceId: PROJECT, environment: "dev", secretPath: "/", expandSecretReferences: "true", include_imports: "true" });
  });

  it("uses environment and path, and falls back to INFISICAL_* variables then defaults", async () => {
    expect((await fetchWith({ ...base, path: "/app" }, identityCredentials(server))).secrets).toEqual({ APP_SECRET: CANARY.appSecret, APP_PORT: "3000" });
    const viaEnv = await fetchWith({}, { ...identityCredentials(server), INFISICAL_PROJECT_ID: PROJECT, INFISICAL_ENVIRONMENT: "prod", INFISICAL_PATH: "/" });
    expect(viaEnv.secrets).toMatchObject({ ONLY_PROD: "prod-only" });
    const defaults = await fetchWith({}, { ...identityCredentials(server), INFISICAL_PROJECT_ID: PROJECT });
    expect(defaults.secrets).toHaveProperty("DATABASE_URL");
    const q = server.requests.filter((x) => x.path === "/api/v3/secrets/raw").at(-1)!.query;
    expect(q).toMatchObject({ environment: "dev", secretPath: "/" });
  });

  it("names project_id when no project is configured anywhere", async () => {
    const r = await fetchWith({}, identityCredentials(server));
    expect(r.error).toMatch(/project_id/);
    expect(server.requests).toHaveLength(0);
  });

  it("says exactly which credentials to set when there are none", async () => {
    const r = await fetchWith(base, { INFISICAL_HOST: server.url });
    expect(r.error).toBe(NO_CREDENTIALS_MESSAGE);
    expect(server.requests).toHaveLength(0);
  });

  it("prefers the Machine Identity when a service token is set too", async () => {
    const r = await fetchWith(base, { ...identityCredentials(server), INFISICAL_TOKEN: "st.unknown.wrong" });
    expect(r.error).toBeNull();
    expect(server.logins()).toBe(1);
  });

  it("uses a service token as a bearer token without a login", async () => {
    const r = await fetchWith(base, { INFISICAL_HOST: server.url, INFISICAL_TOKEN: CANARY.token });
    expect(r.error).toBeNull();
    expect(r.secrets).toHaveProperty("OPENAI_API_KEY", CANARY.openai);
    expect(server.logins()).toBe(0);
  });

  it("refuses a base_url other than INFISICAL_HOST before any login", async () => {
    const r = await fetchWith({ ...base, base_url: "https://evil.example.test" }, identityCredentials(server));
    expect(r.error).toMatch(/base_url/);
    expect(r.error).toMatch(/INFISICAL_HOST/);
    expect(server.requests).toHaveLength(0);
    const same = await fetchWith({ ...base, base_url: `${server.url}/` }, { ...identityCredentials(server), INFISICAL_HOST: `${server.url}/` });
    expect(same.error).toBeNull();
  });

  it("reuses the access token across 100 fetches", async () => {
    for (let i = 0; i < 100; i++) expect((await fetchWith(base, identityCredentials(server))).error).toBeNull();
    expect(server.logins()).toBe(1);
    expect(server.lists()).toBe(100);
  });

  it("logs in again when the token nears its JWT exp", async () => {
    // 2 s like the captured short-TTL identity; `exp` has whole seconds, so the lifetime is 1-2 s.
    server.store.identities.get(CANARY.clientId)!.accessTokenTTL = 2;
    expect((await fetchWith(base, identityCredentials(server))).error).toBeNull();
    const loggedAt = server.requests[0]!.at;
    await waitFor(() => Date.now() > loggedAt + 2_000, 5_000, "the token lifetime to pass");
    expect((await fetchWith(base, identityCredentials(server))).error).toBeNull();
    expect(server.logins()).toBe(2);
    expect(server.requests.filter((q) => q.status === 403)).toHaveLength(0);
  });

  it("logs in again once when the token was revoked, then succeeds", async () => {
    await fetchWith(base, identityCredentials(server));
    server.revokeAllTokens();
    const r = await fetchWith(base, identityCredentials(server));
    expect(r.error).toBeNull();
    expect(server.logins()).toBe(2);
    expect(server.requests.map((q) => q.status)).toEqual([200, 200, 401, 200, 200]);
  });

  it("retries a 5xx twice and then succeeds", async () => {
    await fetchWith(base, identityCredentials(server));
    server.faults.failNext = { count: 2, status: 500, pathPrefix: "/api/v3" };
    const r = await fetchWith(base, identityCredentials(server));
    expect(r.error).toBeNull();
    expect(server.lists()).toBe(4);
  });

  it("retries a 5xx on the login route too (the self-hosted rate limit answers 500 everywhere)", async () => {
    server.faults.failNext = { count: 1, status: 500, pathPrefix: "/api/v1/auth" };
    const r = await fetchWith(base, identityCredentials(server));
    expect(r.error).toBeNull();
    expect(server.requests.map((q) => [q.path, q.status])).toEqual([["/api/v1/auth/universal-auth/login", 500], ["/api/v1/auth/universal-auth/login", 200], ["/api/v3/secrets/raw", 200]]);
  });

  it("gives up after two retries of a 5xx", async () => {
    server.faults.failNext = { count: 10, status: 503, pathPrefix: "/api/v3" };
    const r = await fetchWith(base, identityCredentials(server));
    expect(r.error).toMatch(/^Infisical list_secrets failed: .*\[StatusCode=503\]/);
    expect(server.lists()).toBe(3);
  });

  it("backs off on the captured server's rate limit (500 + retry-after) and recovers", async () => {
    await server.close();
    server = await startFixture({ rateLimit: { limit: 1, windowMs: 150, answer: 500 } });
    provider = createInfisicalProvider({ retryMinTimeoutMs: 100 });
    expect((await fetchWith(base, identityCredentials(server))).error).toBeNull();
    const r = await fetchWith(base, identityCredentials(server));
    expect(r.error).toBeNull();
    expect(server.requests.some((q) => q.status === 500)).toBe(true);
  });

  it("recovers from a dropped connection (retried like a 5xx)", async () => {
    await fetchWith(base, identityCredentials(server));
    server.faults.dropNext = 1;
    const r = await fetchWith(base, identityCredentials(server));
    expect(r.error).toBeNull();
    expect(server.lists()).toBe(3);
  });

  it("recovers from a cloud-style 429 after its Retry-After", async () => {
    await server.close();
    server = await startFixture({ rateLimit: { limit: 1, windowMs: 300, answer: 429 } });
    expect((await fetchWith(base, identityCredentials(server))).error).toBeNull();
    // Two lists sent together land in one window whatever the machine's load: one gets 429.
    const both = await Promise.all([fetchWith(base, identityCredentials(server)), fetchWith(base, identityCredentials(server))]);
    expect(both.map((r) => r.error)).toEqual([null, null]);
    expect(server.requests.some((q) => q.status === 429)).toBe(true);
  });

  it.each([
    ["an unknown project (404)", { ...base, project_id: "00000000-0000-0000-0000-000000000000" }, 404, /Project not found/],
    ["a project without access (403)", { ...base, project_id: "acb4e9e0-170f-413e-8a31-4c555033f4c2" }, 403, /not allowed/],
  ])("does not retry %s", async (_name, config, status, message) => {
    const r = await fetchWith(config, identityCredentials(server));
    expect(r.error).toMatch(message);
    expect(statusOf(r.error!)).toBe(status);
    expect(server.lists()).toBe(1);
    expect(server.logins()).toBe(1);
  });

  it("does not retry a rejected service token (401)", async () => {
    const r = await fetchWith(base, { INFISICAL_HOST: server.url, INFISICAL_TOKEN: "st.canarytok.wrong-secret" });
    expect(r.error).toMatch(/^Infisical list_secrets failed: .*\[StatusCode=401\] Invalid service token/);
    expect(server.lists()).toBe(1);
  });

  it("reports a failed login without the credentials", async () => {
    const r = await fetchWith(base, { ...identityCredentials(server), INFISICAL_CLIENT_SECRET: "canary-wrong-secret-000" });
    expect(r.error).toMatch(/^Infisical authentication failed: .*\[StatusCode=401\] Invalid credentials/);
    expect(r.error).not.toContain("canary-wrong-secret-000");
    expect(server.lists()).toBe(0);
  });

  it("answers a nonexistent path with no secrets, not an error", async () => {
    const r = await fetchWith({ ...base, path: "/does/not/exist" }, identityCredentials(server));
    expect(r).toMatchObject({ error: null, secrets: {} });
  });

  it("turns a garbage answer into a clear error", async () => {
    server.faults.garbageNext = 1;
    const r = await fetchWith(base, identityCredentials(server));
    expect(r.error).toBe("Infisical list_secrets failed: the server's answer was not a secrets list");
  });

  it("gives the deadline message when the server hangs, within the deadline", async () => {
    await fetchWith(base, identityCredentials(server));
    server.faults.hang = true;
    const started = Date.now();
    const r = await fetchWith(base, identityCredentials(server), 600);
    expect(r.error).toBe("The secret manager did not answer within 0.6s.");
    // Returned at the deadline, not after the SDK's ~65 s of retries (generous for a busy machine).
    expect(Date.now() - started).toBeLessThan(5_000);
    server.resetFaults();
    // The request was aborted, the token kept: the next fetch lists at once, no new login.
    expect((await fetchWith(base, identityCredentials(server))).error).toBeNull();
    expect(server.logins()).toBe(1);
  });

  it("gives the deadline message when nothing listens and the deadline comes before the retries end", async () => {
    const url = server.url;
    await server.close();
    await provider.close?.();
    provider = createInfisicalProvider(); // default back-off: 1 s, then 2 s
    const r = await fetchWith(base, { ...identityCredentials(server), INFISICAL_HOST: url }, 800);
    expect(r.error).toBe("The secret manager did not answer within 0.8s.");
  });

  it("a host without http(s):// is refused at once, naming INFISICAL_HOST", async () => {
    const r = await fetchWith(base, { ...identityCredentials(server), INFISICAL_HOST: server.url.replace("http://", "") });
    expect(r.error).toBe(`Infisical configuration error: INFISICAL_HOST (${server.url.replace("http://", "")}) must start with http:// or https:// (for example https://infisical.example.com or http://127.0.0.1:8080).`);
    expect(server.requests).toHaveLength(0);
  });

  it("a refused host is reported after the retries (~3 s with the defaults, not the SDK's ~15 s), naming the host and the cause", async () => {
    const url = server.url;
    await server.close();
    const started = Date.now();
    const r = await fetchWith(base, { ...identityCredentials(server), INFISICAL_HOST: url });
    expect(r.error).toBe(`Infisical authentication failed: cannot reach ${url}: connection refused (ECONNREFUSED)`);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("an unresolvable host and a TLS failure are reported with their cause", async () => {
    const nx = await fetchWith(base, { ...identityCredentials(server), INFISICAL_HOST: "http://strata-test-host.invalid" });
    expect(nx.error).toMatch(/^Infisical authentication failed: cannot reach http:\/\/strata-test-host\.invalid: (host not found \(ENOTFOUND\)|host name lookup failed \(EAI_AGAIN\))$/);
    const started = Date.now();
    const https = server.url.replace("http://", "https://");
    const tls = await fetchWith(base, { ...identityCredentials(server), INFISICAL_HOST: https });
    expect(tls.error).toBe(`Infisical authentication failed: cannot reach ${https}: TLS handshake failed (is it http, not https?) (ERR_SSL_WRONG_VERSION_NUMBER)`);
    expect(Date.now() - started).toBeLessThan(5_000); // no retry: a TLS failure is answered at its first attempt
  });

  it("includes imported secrets, the folder's own values winning", async () => {
    server.store.projects.get(PROJECT)!.imports.push({ environment: "dev", path: "/", fromEnvironment: "dev", fromPath: "/app" });
    server.store.setSecret(PROJECT, "dev", "/app", "API_HOST", "imported-host");
    const r = await fetchWith(base, identityCredentials(server));
    expect(r.secrets).toMatchObject({ APP_SECRET: CANARY.appSecret, API_HOST: "api.example.test" });
  });

  it("sends what @infisical/sdk 5.0.2 sends and reads its answers the same (login, list, errors)", async () => {
    const { InfisicalSDK } = await import("@infisical/sdk");
    const sdk = new InfisicalSDK({ siteUrl: server.url });
    await sdk.auth().universalAuth.login({ clientId: CANARY.clientId, clientSecret: CANARY.clientSecret });
    const listed = await sdk.secrets().listSecrets({ projectId: PROJECT, environment: "dev", secretPath: "/", expandSecretReferences: true, includeImports: true, recursive: false });
    const sdkRequests = server.requests.map(({ method, path, query }) => ({ method, path, query }));
    server.requests.length = 0;
    const r = await fetchWith(base, identityCredentials(server));
    expect(server.requests.map(({ method, path, query }) => ({ method, path, query }))).toEqual(sdkRequests);
    expect(r.secrets).toEqual(Object.fromEntries(listed.secrets.map((s) => [s.secretKey, s.secretValue])));
    expect(r.versions).toEqual(Object.fromEntries(listed.secrets.map((s) => [s.secretKey, String(s.version)])));
    // The same error words: the SDK's message follows "list_secrets failed: ".
    const wrong = { ...base, project_id: "00000000-0000-0000-0000-000000000000" };
    const sdkError = await sdk.secrets().listSecrets({ projectId: wrong.project_id, environment: "dev", secretPath: "/", expandSecretReferences: true, includeImports: true, recursive: false }).then(() => null, (e: Error) => e.message);
    expect((await fetchWith(wrong, identityCredentials(server))).error).toBe(`Infisical list_secrets failed: ${sdkError}`);
  });

  it("close() stops a request in flight at once and answers that the provider is closed", async () => {
    await fetchWith(base, identityCredentials(server));
    server.faults.hang = true;
    const pending = fetchWith(base, identityCredentials(server));
    await waitFor(() => server.requests.length === 3, GENEROUS_MS, "the hanging list to arrive");
    const started = Date.now();
    await provider.close?.();
    expect((await pending).error).toBe("The Infisical provider is closed.");
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("concurrent fetches without a token share one login", async () => {
    const all = await Promise.all(Array.from({ length: 5 }, () => fetchWith(base, identityCredentials(server))));
    expect(all.map((r) => r.error)).toEqual([null, null, null, null, null]);
    expect(server.logins()).toBe(1);
  });

  it("a token error right after a fresh login is reported, not answered with a second login", async () => {
    server.faults.failNext = { count: 1, status: 401, pathPrefix: "/api/v3" };
    const r = await fetchWith(base, identityCredentials(server));
    expect(r.error).toMatch(/^Infisical list_secrets failed: .*\[StatusCode=401\]/);
    expect(server.logins()).toBe(1);
  });

  it("a fetch that joined another's login still succeeds when that one's deadline stops it", async () => {
    server.faults.latencyMs = 300;
    const [short, long] = await Promise.all([fetchWith(base, identityCredentials(server), 100), fetchWith(base, identityCredentials(server))]);
    expect(short.error).toBe("The secret manager did not answer within 0.1s.");
    expect(long.error).toBeNull();
    expect(long.secrets).toMatchObject({ OPENAI_API_KEY: CANARY.openai });
  });

  it("returns an error after close instead of throwing", async () => {
    await provider.close?.();
    const r = await fetchWith(base, identityCredentials(server));
    expect(r.error).toMatch(/closed/);
  });
});
