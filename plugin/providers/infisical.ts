import type { FetchContext, FetchResult, InfisicalProviderOptions, SecretManagerConfig, SecretProvider } from "../types.js";
import { childController, deadlineMessage } from "../deadline.js";
import { InfisicalThread } from "./infisical-thread.js";
import type { WorkerAuth, WorkerReply } from "./infisical-worker.js";

export const DEFAULT_INFISICAL_HOST = "https://app.infisical.com";

export const NO_CREDENTIALS_MESSAGE =
  "No Infisical credentials in the process environment. Set either INFISICAL_CLIENT_ID + " +
  "INFISICAL_CLIENT_SECRET (Machine Identity / Universal Auth, recommended) or " +
  "INFISICAL_TOKEN (service token, legacy) in the shell that launched Strata.";

/** HTTP status in an SDK error message: `[StatusCode=N]` or `Request failed with status N`. */
export function statusOf(message: string): number | null {
  const m = /\[StatusCode=(\d{3})\]/.exec(message) ?? /Request failed with status (\d{3})/.exec(message);
  return m ? Number(m[1]) : null;
}

/** A 401, or a 403 about the token itself (expired, malformed, bad signature): log in again. */
function isTokenError(message: string): boolean {
  const status = statusOf(message);
  return status === 401 || (status === 403 && /token|signature|re-authenticate/i.test(message.replace(/^\[URL=[^\]]*\]/, "")));
}

class WorkerCallError extends Error {
  readonly status: number | null;
  constructor(message: string) {
    super(message);
    this.status = statusOf(message);
  }
}

function normalizeHost(url: string): string {
  return url.trim().replace(/\/+$/, "");
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
 * JWT `exp`, one re-login on a token error, p-retry for 5xx, a hard deadline.
 * @example
 * const plugin = createSecretManagerPlugin({ notebookDir, providers: { infisical: createInfisicalProvider() } });
 */
export function createInfisicalProvider(options: InfisicalProviderOptions = {}): SecretProvider {
  const retries = options.retries ?? 2;
  const minTimeout = options.retryMinTimeoutMs ?? 1_000;
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

  async function call(t: InfisicalThread, op: Parameters<InfisicalThread["call"]>[0]): Promise<WorkerReply & { ok: true }> {
    const reply = await t.call(op);
    if (!reply.ok) throw new WorkerCallError(reply.message);
    return reply;
  }

  async function login(t: InfisicalThread): Promise<void> {
    try {
      const issued = Date.now();
      const reply = await call(t, { op: "login" });
      t.tokenIssuedAt = issued;
      t.tokenExpiresAt = "exp" in reply ? reply.exp : null;
    } catch (error) {
      t.tokenExpiresAt = undefined;
      throw new Error(`Infisical authentication failed: ${(error as Error).message}`);
    }
  }

  async function fetchSecrets(config: SecretManagerConfig, ctx: FetchContext, signal: AbortSignal): Promise<Record<string, string>> {
    const c = ctx.credentials;
    const projectId = config.project_id ?? c["INFISICAL_PROJECT_ID"];
    if (!projectId) throw new Error("Infisical project_id is missing: set project_id in [secret_manager] or INFISICAL_PROJECT_ID.");
    const environment = config.environment ?? c["INFISICAL_ENVIRONMENT"] ?? "dev";
    const secretPath = config.path ?? c["INFISICAL_PATH"] ?? "/";
    const host = normalizeHost(c["INFISICAL_HOST"] || DEFAULT_INFISICAL_HOST);
    if (config.base_url !== undefined && normalizeHost(config.base_url) !== host) {
      throw new Error(
        `Refused: [secret_manager].base_url (${normalizeHost(config.base_url)}) is not the Infisical host this kernel logs in to ` +
          `(INFISICAL_HOST = ${host}); logging in there would send the kernel's credentials to it. ` +
          "Set INFISICAL_HOST in the shell that launched Strata, or remove base_url.",
      );
    }
    let auth: WorkerAuth;
    if (c["INFISICAL_CLIENT_ID"] && c["INFISICAL_CLIENT_SECRET"]) {
      auth = { kind: "universal", clientId: c["INFISICAL_CLIENT_ID"], clientSecret: c["INFISICAL_CLIENT_SECRET"] };
    } else if (c["INFISICAL_TOKEN"]) {
      auth = { kind: "token", token: c["INFISICAL_TOKEN"] };
    } else {
      throw new Error(NO_CREDENTIALS_MESSAGE);
    }

    const t = threadFor(host, auth);
    let relogged = false;
    if (!tokenUsable(t, Date.now())) {
      await login(t);
      relogged = true;
    }
    signal.throwIfAborted();
    const { default: pRetry } = await import("p-retry");
    const list = () => call(t, { op: "list", projectId, environment, secretPath });
    for (;;) {
      try {
        const reply = await pRetry(list, {
          retries,
          minTimeout,
          factor: 2,
          signal,
          unref: true,
          shouldRetry: ({ error }) => {
            const status = (error as WorkerCallError).status;
            return status !== null && status >= 500;
          },
        });
        signal.throwIfAborted();
        return Object.fromEntries("secrets" in reply ? reply.secrets : []);
      } catch (error) {
        signal.throwIfAborted();
        const message = (error as Error).message;
        if (!relogged && auth.kind === "universal" && isTokenError(message)) {
          relogged = true;
          await login(t);
          continue;
        }
        throw new Error(`Infisical list_secrets failed: ${message}`);
      }
    }
  }

  return {
    name: "infisical",
    async fetch(config, ctx): Promise<FetchResult> {
      const done = (secrets: Record<string, string>, error: string | null): FetchResult => ({
        secrets,
        source: "infisical",
        fetchedAt: new Date().toISOString(),
        error,
      });
      if (closed) return done({}, "The Infisical provider is closed.");
      const { controller, dispose } = childController(ctx.signal);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, ctx.timeoutMs);
      const signal = controller.signal;
      const stopped = new Promise<never>((_, reject) => {
        const onAbort = () => reject(signal.reason);
        if (signal.aborted) onAbort();
        else signal.addEventListener("abort", onAbort, { once: true });
      });
      stopped.catch(() => undefined);
      try {
        const secrets = await Promise.race([fetchSecrets(config, ctx, signal), stopped]);
        return done(secrets, null);
      } catch (error) {
        if (signal.aborted) {
          // Whatever the worker was doing cannot be cancelled any other way.
          const t = thread;
          thread = null;
          await t?.terminate();
          return done({}, timedOut ? deadlineMessage(ctx.timeoutMs) : "The fetch was cancelled.");
        }
        return done({}, redactCredentials((error as Error).message, ctx.credentials));
      } finally {
        clearTimeout(timer);
        dispose();
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

/** Belt and braces: no credential value survives in a message, even if a server echoes it. */
function redactCredentials(message: string, credentials: FetchContext["credentials"]): string {
  let out = message;
  for (const name of ["INFISICAL_CLIENT_ID", "INFISICAL_CLIENT_SECRET", "INFISICAL_TOKEN"]) {
    const value = credentials[name];
    if (value && value.length >= 4) out = out.split(value).join("***");
  }
  return out;
}
