import type { FetchContext, FetchResult, InfisicalProviderOptions, ProviderConfig, SecretProvider } from "../types.js";
import { InfisicalThread } from "./infisical-thread.js";
import { countOption, redact } from "./http-common.js";
import { authOf, hostOf, INFISICAL_CREDENTIALS, INFISICAL_SETTINGS, isTokenError, resolveTarget, statusOf, type InfisicalConfig } from "./infisical-target.js";
import type { WorkerAuth, WorkerReply } from "./infisical-worker.js";

export { DEFAULT_INFISICAL_HOST, INFISICAL_CREDENTIALS, NO_CREDENTIALS_MESSAGE, statusOf } from "./infisical-target.js";

class WorkerCallError extends Error {
  readonly status: number | null;
  constructor(message: string) {
    super(message);
    this.status = statusOf(message);
  }
}

const TOKEN_MARGIN_MS = 60_000;

/** Renew before `exp` minus a margin: 60 s, or a tenth of the lifetime for short tokens. */
function tokenUsable(thread: InfisicalThread, now: number): boolean {
  const exp = thread.tokenExpiresAt;
  if (exp === undefined) return false;
  if (exp === null) return true;
  const margin = Math.min(TOKEN_MARGIN_MS, (exp - thread.tokenIssuedAt) / 10);
  return now < exp - margin;
}

/**
 * The Infisical provider: `@infisical/sdk` in a worker thread, token reuse until near its
 * JWT `exp`, one re-login on a token error, p-retry for 5xx (login and list), and reacting
 * to the registry's deadline signal.
 * @example
 * const plugin = createSecretManagerPlugin({ notebookDir, providers: { infisical: createInfisicalProvider({ retries: 1 }) } });
 */
export function createInfisicalProvider(options: InfisicalProviderOptions = {}): SecretProvider {
  const retries = countOption("createInfisicalProvider", "retries", options.retries, 2);
  const minTimeout = countOption("createInfisicalProvider", "retryMinTimeoutMs", options.retryMinTimeoutMs, 1_000);
  let thread: InfisicalThread | null = null;
  let closed = false;

  function threadFor(siteUrl: string, auth: WorkerAuth): InfisicalThread {
    const key = JSON.stringify([siteUrl, auth]);
    if (thread && (thread.dead || thread.key !== key)) {
      void thread.terminate();
      thread = null;
    }
    thread ??= new InfisicalThread(key, { siteUrl, auth });
    return thread;
  }

  let retryModule: Promise<typeof import("p-retry").default> | undefined;

  /** One worker call, retried on 5xx only (rate limits answer 500 on this server version). */
  async function call(t: InfisicalThread, op: Parameters<InfisicalThread["call"]>[0], signal: AbortSignal): Promise<WorkerReply & { ok: true }> {
    // Loaded on the first call and kept: a dynamic import() on every call costs a trip
    // through the module loader (measurable in a warm refresh).
    const pRetry = (retryModule ??= import("p-retry").then((m) => m.default));
    const once = async () => {
      const reply = await t.call(op, signal);
      if (!reply.ok) throw new WorkerCallError(reply.message);
      return reply;
    };
    return (await pRetry)(once, { retries, minTimeout, factor: 2, signal, unref: true, shouldRetry: ({ error }) => ((error as WorkerCallError).status ?? 0) >= 500 });
  }

  async function login(t: InfisicalThread, signal: AbortSignal): Promise<void> {
    try {
      const issued = Date.now();
      const reply = await call(t, { op: "login" }, signal);
      t.tokenIssuedAt = issued;
      t.tokenExpiresAt = "exp" in reply ? reply.exp : null;
    } catch (error) {
      signal.throwIfAborted();
      t.tokenExpiresAt = undefined;
      throw new Error(`Infisical authentication failed: ${(error as Error).message}`);
    }
  }

  async function fetchSecrets(config: InfisicalConfig, ctx: FetchContext): Promise<{ secrets: Record<string, string>; versions: Record<string, string> }> {
    const { signal } = ctx;
    const { projectId, environment, secretPath, host, auth } = resolveTarget(config, ctx.credentials);
    const t = threadFor(host, auth);
    let relogged = false;
    if (!tokenUsable(t, Date.now())) {
      await login(t, signal);
      relogged = true;
    }
    for (;;) {
      signal.throwIfAborted();
      try {
        const reply = await call(t, { op: "list", projectId, environment, secretPath }, signal);
        signal.throwIfAborted();
        return "secrets" in reply ? { secrets: Object.fromEntries(reply.secrets), versions: Object.fromEntries(reply.versions) } : { secrets: {}, versions: {} };
      } catch (error) {
        signal.throwIfAborted();
        const message = (error as Error).message;
        if (relogged || auth.kind !== "universal" || !isTokenError(message)) throw new Error(`Infisical list_secrets failed: ${message}`);
        relogged = true;
        await login(t, signal);
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
    prepare(ctx) {
      // Start the worker (thread + SDK import) now, while the notebook is still being read.
      if (closed) return;
      try {
        threadFor(hostOf(ctx.credentials), authOf(ctx.credentials)).warm();
      } catch {
        // No usable host or credentials: the fetch will say so.
      }
    },
    async fetch(config: ProviderConfig, ctx): Promise<FetchResult> {
      const done = (secrets: Record<string, string>, error: string | null): FetchResult => ({ secrets, fetchedAt: new Date().toISOString(), error });
      if (closed) return done({}, "The Infisical provider is closed.");
      const signal = ctx.signal;
      const stopped = new Promise<never>((_, reject) => {
        const onAbort = () => reject(signal.reason);
        if (signal.aborted) onAbort();
        else signal.addEventListener("abort", onAbort, { once: true });
      });
      stopped.catch(() => undefined);
      try {
        const { secrets, versions } = await Promise.race([fetchSecrets(config as InfisicalConfig, ctx), stopped]);
        return { ...done(secrets, null), versions };
      } catch (error) {
        if (!signal.aborted) return done({}, redact((error as Error).message, ctx.credentials, INFISICAL_CREDENTIALS));
        // A call in flight cannot be cancelled any other way than by terminating the worker.
        // A worker still starting is kept: killing it would make every fetch with a deadline
        // shorter than a cold start fail forever.
        const t = thread;
        if (t?.started) {
          thread = null;
          await t.terminate();
        }
        return done({}, "The fetch was cancelled.");
      }
    },
    async close() {
      closed = true;
      const t = thread;
      thread = null;
      await t?.terminate();
    },
  };
}
