// HashiCorp Vault / OpenBao, KV secrets engine v2 (and v1): AppRole or token auth over
// Vault's HTTP API with `fetch` (HashiCorp ships no official JavaScript client), cancelled by
// the plugin's signal, transient failures retried inside the deadline.
import type { FetchContext, FetchResult, ProviderConfig, SecretProvider } from "../types.js";
import { checkBaseUrl, countOption, failedFetch, HttpError, normalizeHost, normalizeValues, now, requestJson, withRetries } from "./http-common.js";

/** Scrubbed from cells and masked in output. */
export const VAULT_CREDENTIALS = ["VAULT_TOKEN", "VAULT_ROLE_ID", "VAULT_SECRET_ID"] as const;
/** Read once at creation, never live. */
export const VAULT_SETTINGS = ["VAULT_ADDR", "VAULT_NAMESPACE"] as const;

export const VAULT_NO_CREDENTIALS_MESSAGE =
  "No Vault credentials in the process environment. Set either VAULT_ROLE_ID + VAULT_SECRET_ID " +
  "(AppRole, recommended) or VAULT_TOKEN in the shell that launched Strata.";

export interface VaultProviderOptions {
  /** Retries of a transient failure (429, 5xx, sealed/standby 503, dropped connection); default 2. */
  retries?: number;
  /** First back-off delay, ms (default 500), doubled each retry. */
  retryMinTimeoutMs?: number;
}

interface VaultConfig {
  mount?: string;
  path?: string;
  namespace?: string;
  auth_namespace?: string;
  approle_mount?: string;
  kv_version?: 1 | 2 | "1" | "2";
  base_url?: string;
}

type Auth = { kind: "approle"; roleId: string; secretId: string } | { kind: "token"; token: string };

interface Session {
  token: string;
  /** ms; Infinity for a static token (its lifetime is not ours to know). */
  expiresAt: number;
  issuedAt: number;
}

const MARGIN_MS = 60_000;

/** "1 error occurred:\n\t* permission denied\n\n" -> "permission denied" (Vault >= 1.10 multierror text). */
export function vaultReason(body: unknown, status: number): string {
  const list = (body as { errors?: unknown } | null)?.errors;
  if (Array.isArray(list)) {
    const parts = list
      .map(String)
      .flatMap((e) => {
        const bullets = [...e.matchAll(/^\s*\*\s*(.+)$/gm)].map((m) => m[1]!.trim());
        return bullets.length > 0 ? bullets : [e.trim()];
      })
      .filter((e) => e !== "");
    if (parts.length > 0) return `${parts.join(", ")} (HTTP ${status})`;
  }
  if (typeof body === "string" && body.trim() !== "") return `HTTP ${status}: ${body.trim().slice(0, 200)}`;
  return status === 404 ? "not found (HTTP 404)" : `HTTP ${status}`;
}

/**
 * The Vault provider. `[secret_manager]`: `mount` (default "secret"), `path` (required),
 * `namespace`, `auth_namespace`, `approle_mount` (default "approle"), `kv_version` (1 or 2;
 * detected when absent), `base_url` (must equal VAULT_ADDR).
 * @example
 * createSecretManagerPlugin({ notebookDir, providers: { vault: createVaultProvider({ retries: 1 }) } });
 */
export function createVaultProvider(options: VaultProviderOptions = {}): SecretProvider {
  const retries = countOption("createVaultProvider", "retries", options.retries, 2);
  const minTimeoutMs = countOption("createVaultProvider", "retryMinTimeoutMs", options.retryMinTimeoutMs, 500);
  /** Tokens from AppRole logins (and static ones), by address + namespace + login. */
  const sessions = new Map<string, Session>();
  /** Secret IDs that logged in once: a later "invalid" is likely a used-up single-use ID. */
  const usedSecretIds = new Set<string>();
  /** Detected KV versions by address + namespace + mount. */
  const versions = new Map<string, 1 | 2>();

  async function login(addr: string, ns: string, mount: string, auth: Auth & { kind: "approle" }, signal: AbortSignal): Promise<Session> {
    const key = `${addr}|${ns}|${mount}|${auth.roleId}`;
    try {
      const answer = await withRetries(
        () =>
          requestJson(`${addr}/v1/auth/${encodePath(mount)}/login`, { method: "POST", headers: headers(ns), body: JSON.stringify({ role_id: auth.roleId, secret_id: auth.secretId }), signal }, vaultReason),
        { signal, retries, minTimeoutMs },
      );
      const a = (answer.body as { auth?: { client_token?: unknown; lease_duration?: unknown } } | null)?.auth;
      if (!a || typeof a.client_token !== "string") throw new Error("the login answer holds no client_token");
      const ttl = typeof a.lease_duration === "number" && a.lease_duration > 0 ? a.lease_duration * 1000 : Infinity;
      const session = { token: a.client_token, issuedAt: Date.now(), expiresAt: Date.now() + ttl };
      sessions.set(key, session);
      usedSecretIds.add(auth.secretId);
      return session;
    } catch (error) {
      signal.throwIfAborted();
      let reason = (error as Error).message;
      if (error instanceof HttpError && error.status === 400 && /invalid (role|secret)/i.test(reason) && usedSecretIds.has(auth.secretId)) {
        reason += " — this VAULT_SECRET_ID logged in before: it may be single-use (secret_id_num_uses) and used up; issue a new one";
      }
      throw new Error(`Vault authentication failed: ${reason}`);
    }
  }

  async function tokenFor(addr: string, ns: string, mount: string, auth: Auth, signal: AbortSignal, fresh: boolean): Promise<Session> {
    if (auth.kind === "token") return { token: auth.token, issuedAt: 0, expiresAt: Infinity };
    const cached = sessions.get(`${addr}|${ns}|${mount}|${auth.roleId}`);
    if (!fresh && cached) {
      const margin = Math.min(MARGIN_MS, (cached.expiresAt - cached.issuedAt) / 10);
      if (Date.now() < cached.expiresAt - margin) return cached;
    }
    return login(addr, ns, mount, auth, signal);
  }

  /** KV version of the mount: configured, or asked from the preflight endpoint as the vault CLI does. */
  async function kvVersion(addr: string, ns: string, mount: string, path: string, token: string, configured: VaultConfig["kv_version"], signal: AbortSignal): Promise<1 | 2> {
    if (configured !== undefined) return Number(configured) as 1 | 2;
    const key = `${addr}|${ns}|${mount}`;
    const known = versions.get(key);
    if (known) return known;
    try {
      const answer = await withRetries(() => requestJson(`${addr}/v1/sys/internal/ui/mounts/${encodePath(`${mount}/${path}`)}`, { headers: headers(ns, token), signal }, vaultReason), { signal, retries, minTimeoutMs });
      const v = (answer.body as { data?: { options?: { version?: unknown } | null } } | null)?.data?.options?.version;
      const version = String(v) === "2" ? 2 : 1;
      versions.set(key, version);
      return version;
    } catch (error) {
      signal.throwIfAborted();
      // 403: the policy does not grant the preflight; 404: a Vault too old to have it (v1 then).
      if (error instanceof HttpError && error.status === 404) return 1;
      if (error instanceof HttpError && error.status === 403 && !/invalid token/.test(error.reason)) return 2;
      throw error;
    }
  }

  async function read(config: VaultConfig, ctx: FetchContext): Promise<FetchResult> {
    const c = ctx.credentials;
    const { signal } = ctx;
    if (!c["VAULT_ADDR"]) {
      throw new Error("Vault configuration error: VAULT_ADDR is not set. Set it (for example https://vault.example.com:8200) in the shell that launched Strata.");
    }
    const addr = normalizeHost("Vault", "VAULT_ADDR", c["VAULT_ADDR"]);
    checkBaseUrl("Vault", "VAULT_ADDR", config.base_url, addr);
    const auth: Auth | null =
      c["VAULT_ROLE_ID"] && c["VAULT_SECRET_ID"] ? { kind: "approle", roleId: c["VAULT_ROLE_ID"], secretId: c["VAULT_SECRET_ID"] } : c["VAULT_TOKEN"] ? { kind: "token", token: c["VAULT_TOKEN"] } : null;
    if (!auth) throw new Error(VAULT_NO_CREDENTIALS_MESSAGE);
    const mount = trimSlashes(config.mount ?? "secret");
    const path = trimSlashes(config.path ?? "");
    if (path === "") throw new Error("Vault path is missing: set path in [secret_manager] (the secret whose keys become variables, e.g. apps/notebook).");
    const ns = trimSlashes(config.namespace ?? c["VAULT_NAMESPACE"] ?? "");
    const authNs = trimSlashes(config.auth_namespace ?? ns);
    const approleMount = trimSlashes(config.approle_mount ?? "approle");

    let session = await tokenFor(addr, authNs, approleMount, auth, signal, false);
    let version: 1 | 2 | undefined;
    for (let relogged = false; ; ) {
      try {
        version = await kvVersion(addr, ns, mount, path, session.token, config.kv_version, signal);
        const url = version === 2 ? `${addr}/v1/${encodePath(mount)}/data/${encodePath(path)}` : `${addr}/v1/${encodePath(mount)}/${encodePath(path)}`;
        const answer = await withRetries(() => requestJson(url, { headers: headers(ns, session.token), signal }, vaultReason), { signal, retries, minTimeoutMs });
        const data = (answer.body as { data?: { data?: unknown; metadata?: { version?: unknown } } | null } | null)?.data;
        const values = version === 2 ? data?.data : data;
        if (!values || typeof values !== "object" || Array.isArray(values)) throw new Error(`Vault read failed: the answer for ${mount}/${path} holds no key/value data`);
        const { secrets, refused } = normalizeValues(values as Record<string, unknown>, "Vault");
        const result: FetchResult = { secrets, fetchedAt: now(), error: null };
        if (Object.keys(refused).length > 0) result.refused = refused;
        const v = version === 2 ? data?.metadata?.version : undefined;
        if (typeof v === "number") result.versions = Object.fromEntries(Object.keys(secrets).map((k) => [k, String(v)]));
        return result;
      } catch (error) {
        signal.throwIfAborted();
        if (!(error instanceof HttpError)) throw error;
        // An expired or revoked token: one new AppRole login, then the read again.
        if (error.status === 403 && /invalid token/.test(error.reason)) {
          if (auth.kind === "approle" && !relogged) {
            relogged = true;
            session = await tokenFor(addr, authNs, approleMount, auth, signal, true);
            continue;
          }
          throw new Error(`Vault authentication failed: ${error.reason}${auth.kind === "token" ? " (VAULT_TOKEN is expired or revoked)" : ""}`);
        }
        const where = `${mount}/${version === 1 ? "" : "data/"}${path}`;
        if (error.status === 404) throw new Error(`Vault read failed: no secret at ${where} (HTTP 404)`);
        throw new Error(`Vault read failed: ${error.reason} (reading ${where})`);
      }
    }
  }

  return {
    name: "vault",
    credentialNames: VAULT_CREDENTIALS,
    settingNames: VAULT_SETTINGS,
    configSchema: (z) =>
      z.strictObject({
        mount: z.string().meta({ title: "KV mount", description: "default: secret" }).optional(),
        path: z.string().meta({ title: "Secret path", description: "every key of this secret becomes a variable", examples: ["apps/notebook"] }),
        namespace: z.string().meta({ title: "Namespace", description: "Vault Enterprise / OpenBao; default: VAULT_NAMESPACE" }).optional(),
        auth_namespace: z.string().meta({ title: "Auth namespace", description: "where AppRole is mounted; default: namespace" }).optional(),
        approle_mount: z.string().meta({ title: "AppRole mount", description: "default: approle" }).optional(),
        kv_version: z.union([z.literal(1), z.literal(2), z.literal("1"), z.literal("2")]).meta({ title: "KV version", description: "1 or 2; detected when empty" }).optional(),
        base_url: z.string().meta({ title: "Base URL", description: "must equal VAULT_ADDR" }).optional(),
      }),
    async fetch(config: ProviderConfig, ctx): Promise<FetchResult> {
      try {
        return await read(config as VaultConfig, ctx);
      } catch (error) {
        return failedFetch(error, ctx, { own: /^(Vault |No Vault|Refused)/, wrap: "Vault read failed", credentials: VAULT_CREDENTIALS });
      }
    },
  };
}

function headers(namespace: string, token?: string): Record<string, string> {
  const h: Record<string, string> = { "content-type": "application/json", "x-vault-request": "true" };
  if (namespace) h["x-vault-namespace"] = namespace;
  if (token) h["x-vault-token"] = token;
  return h;
}

function trimSlashes(s: string): string {
  return s.trim().replace(/^\/+|\/+$/g, "");
}

function encodePath(p: string): string {
  return p.split("/").map(encodeURIComponent).join("/");
}
