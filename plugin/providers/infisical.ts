// Infisical over its HTTP API (http-common's requestJson): the Universal Auth login and the
// raw secrets list, the same two requests @infisical/sdk 5.0.2 sends
// (fixtures/infisical-captures/sdk-5.0.2-proxy-log.jsonl). A request stops with the plugin's
// signal, so no worker thread is needed to cancel a call, Retry-After is honoured, and
// nothing large loads: the SDK could do none of these (DESIGN §2/§5.7 ran it in a worker).
import type { FetchContext, FetchResult, InfisicalProviderOptions, ProviderConfig, SecretProvider } from "../types.js";
import { countOption, redact, requestJson, withRetries } from "./http-common.js";
import { flattenSecrets, infisicalReason, INFISICAL_CREDENTIALS, INFISICAL_SETTINGS, isTokenError, jwtExpiry, resolveTarget, type InfisicalAuth, type InfisicalConfig } from "./infisical-target.js";

export { DEFAULT_INFISICAL_HOST, INFISICAL_CREDENTIALS, NO_CREDENTIALS_MESSAGE, statusOf } from "./infisical-target.js";

const TOKEN_MARGIN_MS = 60_000;

interface Token {
  /** host + credentials this token belongs to. */
  key: string;
  value: string;
  issuedAt: number;
  /** ms since the epoch; null: no expiry known (service tokens). */
  expiresAt: number | null;
}

/** Renew before `exp` minus a margin: 60 s, or a tenth of the lifetime for short tokens. */
function tokenUsable(token: Token, now: number): boolean {
  if (token.expiresAt === null) return true;
  const margin = Math.min(TOKEN_MARGIN_MS, (token.expiresAt - token.issuedAt) / 10);
  return now < token.expiresAt - margin;
}

/**
 * The Infisical provider: Universal Auth login (or a service token as the bearer), token
 * reuse until near its expiry, one re-login on a token error, retries of 429/5xx/dropped
 * connections inside the registry's deadline, and cancellation by its signal.
 * @example
 * const plugin = createSecretManagerPlugin({ notebookDir, providers: { infisical: createInfisicalProvider({ retries: 1 }) } });
 */
export function createInfisicalProvider(options: InfisicalProviderOptions = {}): SecretProvider {
  const retries = countOption("createInfisicalProvider", "retries", options.retries, 2);
  const minTimeoutMs = countOption("createInfisicalProvider", "retryMinTimeoutMs", options.retryMinTimeoutMs, 1_000);
  /** Aborted by close(): a request in flight stops at once. */
  const lifetime = new AbortController();
  let token: Token | null = null;
  /** A login under way, shared by every fetch that needs it; `signal` is the one it runs under. */
  let loggingIn: { key: string; promise: Promise<Token>; signal: AbortSignal } | null = null;

  async function login(host: string, auth: InfisicalAuth, key: string, signal: AbortSignal): Promise<Token> {
    const issuedAt = Date.now();
    if (auth.kind === "token") return { key, value: auth.token, issuedAt, expiresAt: null };
    const url = `${host}/api/v1/auth/universal-auth/login`;
    try {
      const { body } = await withRetries(
        () =>
          requestJson(
            url,
            { method: "POST", headers: { "content-type": "application/json", accept: "application/json" }, body: JSON.stringify({ clientId: auth.clientId, clientSecret: auth.clientSecret }), signal },
            infisicalReason(url, "POST"),
          ),
        { signal, retries, minTimeoutMs },
      );
      const answer = body as { accessToken?: unknown; expiresIn?: unknown } | null;
      if (typeof answer?.accessToken !== "string" || answer.accessToken === "") throw new Error("the server's answer has no accessToken");
      // The JWT's own `exp` and the answer's `expiresIn`, whichever ends first.
      const ends = [jwtExpiry(answer.accessToken), typeof answer.expiresIn === "number" && answer.expiresIn > 0 ? issuedAt + answer.expiresIn * 1000 : null].filter((t): t is number => t !== null);
      return { key, value: answer.accessToken, issuedAt, expiresAt: ends.length > 0 ? Math.min(...ends) : null };
    } catch (error) {
      signal.throwIfAborted();
      throw new Error(`Infisical authentication failed: ${(error as Error).message}`);
    }
  }

  /** The token in force for `key`, logging in once for all callers that need a new one. */
  async function tokenFor(host: string, auth: InfisicalAuth, key: string, signal: AbortSignal, stale: Token | null): Promise<Token> {
    if (token && token.key === key && token !== stale && tokenUsable(token, Date.now())) return token;
    if (loggingIn?.key !== key) {
      const promise: Promise<Token> = login(host, auth, key, signal).then(
        (t) => {
          if (loggingIn?.promise === promise) loggingIn = null;
          token = t;
          return t;
        },
        (error: unknown) => {
          if (loggingIn?.promise === promise) loggingIn = null;
          throw error;
        },
      );
      loggingIn = { key, promise, signal };
    }
    const shared = loggingIn;
    try {
      return await shared.promise;
    } catch (error) {
      // Stopped by the deadline of the fetch that started it, not by ours: log in ourselves.
      if (shared.signal !== signal && shared.signal.aborted && !signal.aborted) return tokenFor(host, auth, key, signal, stale);
      throw error;
    }
  }

  async function fetchSecrets(config: InfisicalConfig, ctx: FetchContext, signal: AbortSignal) {
    const { projectId, environment, secretPath, host, auth } = resolveTarget(config, ctx.credentials);
    const key = JSON.stringify([host, auth]);
    // The query @infisical/sdk 5.0.2 sends for listSecrets({ expandSecretReferences, includeImports: true, recursive: false }).
    const query = new URLSearchParams({ workspaceId: projectId, environment, expandSecretReferences: "true", include_imports: "true", recursive: "false", secretPath, viewSecretValue: "true" });
    const url = `${host}/api/v3/secrets/raw?${query}`;
    const before = token;
    let current = await tokenFor(host, auth, key, signal, null);
    // Logged in just now: a token error on the list is not the token's age, do not log in again.
    let relogged = current !== before;
    for (;;) {
      signal.throwIfAborted();
      try {
        const bearer = current.value;
        const { body } = await withRetries(() => requestJson(url, { headers: { authorization: `Bearer ${bearer}`, accept: "application/json" }, signal }, infisicalReason(url, "GET")), { signal, retries, minTimeoutMs });
        return flattenSecrets(body);
      } catch (error) {
        signal.throwIfAborted();
        const message = (error as Error).message;
        if (relogged || auth.kind !== "universal" || !isTokenError(message)) throw new Error(`Infisical list_secrets failed: ${message}`);
        relogged = true;
        current = await tokenFor(host, auth, key, signal, current);
      }
    }
  }

  return {
    name: "infisical",
    credentialNames: INFISICAL_CREDENTIALS,
    settingNames: INFISICAL_SETTINGS,
    configSchema: (z) =>
      z.strictObject({
        project_id: z.string().meta({ title: "Project ID", description: "default: INFISICAL_PROJECT_ID" }).optional(),
        environment: z.string().meta({ title: "Environment", description: "default: INFISICAL_ENVIRONMENT, else dev", examples: ["dev", "staging", "prod"] }).optional(),
        path: z.string().meta({ title: "Path", description: "default: INFISICAL_PATH, else /" }).optional(),
        base_url: z.string().meta({ title: "Base URL", description: "must equal INFISICAL_HOST" }).optional(),
      }),
    async fetch(config: ProviderConfig, ctx): Promise<FetchResult> {
      const done = (secrets: Record<string, string>, error: string | null): FetchResult => ({ secrets, fetchedAt: new Date().toISOString(), error });
      if (lifetime.signal.aborted) return done({}, "The Infisical provider is closed.");
      // The fetch stops with the registry's deadline or with close(), whichever comes first.
      const stop = new AbortController();
      const abort = () => stop.abort(ctx.signal.aborted ? ctx.signal.reason : lifetime.signal.reason);
      if (ctx.signal.aborted) abort();
      ctx.signal.addEventListener("abort", abort, { once: true });
      lifetime.signal.addEventListener("abort", abort, { once: true });
      try {
        const { secrets, versions } = await fetchSecrets(config as InfisicalConfig, ctx, stop.signal);
        return { ...done(secrets, null), versions };
      } catch (error) {
        if (lifetime.signal.aborted) return done({}, "The Infisical provider is closed.");
        if (stop.signal.aborted) return done({}, "The fetch was cancelled.");
        return done({}, redact((error as Error).message, ctx.credentials, INFISICAL_CREDENTIALS));
      } finally {
        ctx.signal.removeEventListener("abort", abort);
        lifetime.signal.removeEventListener("abort", abort);
      }
    },
    async close() {
      token = null;
      loggingIn = null;
      lifetime.abort(new Error("The Infisical provider is closed."));
    },
  };
}
