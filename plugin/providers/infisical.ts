import type { FetchContext, FetchResult, InfisicalProviderOptions, ProviderConfig, SecretProvider } from "../types.js";
import { InfisicalThread } from "./infisical-thread.js";
import type { WorkerAuth, WorkerReply } from "./infisical-worker.js";

/** The kernel's Infisical credentials: scrubbed from cells, masked in output. */
export const INFISICAL_CREDENTIALS = ["INFISICAL_CLIENT_ID", "INFISICAL_CLIENT_SECRET", "INFISICAL_TOKEN"] as const;
const INFISICAL_SETTINGS = ["INFISICAL_HOST", "INFISICAL_PROJECT_ID", "INFISICAL_ENVIRONMENT", "INFISICAL_PATH"] as const;

interface InfisicalConfig {
  project_id?: string;
  environment?: string;
  path?: string;
  base_url?: string;
}

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
  const retries = count("retries", options.retries, 2);
  const minTimeout = count("retryMinTimeoutMs", options.retryMinTimeoutMs, 1_000);
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

  async function call(t: InfisicalThread, op: Parameters<InfisicalThread["call"]>[0], signal: AbortSignal): Promise<WorkerReply & { ok: true }> {
    const reply = await t.call(op, signal);
    if (!reply.ok) throw new WorkerCallError(reply.message);
    return reply;
  }

  async function login(t: InfisicalThread, signal: AbortSignal): Promise<void> {
    try {
      const issued = Date.now();
      const reply = await call(t, { op: "login" }, signal);
      t.tokenIssuedAt = issued;
      t.tokenExpiresAt = "exp" in reply ? reply.exp : null;
    } catch (error) {
      t.tokenExpiresAt = undefined;
      throw new Error(`Infisical authentication failed: ${(error as Error).message}`);
    }
  }

  async function fetchSecrets(config: InfisicalConfig, ctx: FetchContext): Promise<Record<string, string>> {
    const signal = ctx.signal;
    const c = ctx.credentials;
    const projectId = config.project_id ?? c["INFISICAL_PROJECT_ID"];
    if (!projectId) throw new Error("Infisical project_id is missing: set project_id in [secret_manager] or INFISICAL_PROJECT_ID.");
    const environment = config.environment ?? c["INFISICAL_ENVIRONMENT"] ?? "dev";
    const secretPath = config.path ?? c["INFISICAL_PATH"] ?? "/";
    const host = normalizeHost(c["INFISICAL_HOST"] || DEFAULT_INFISICAL_HOST);
    if (!/^https?:\/\/[^/]/i.test(host)) {
      throw new Error(`Infisical configuration error: INFISICAL_HOST (${host}) must start with http:// or https:// (for example https://infisical.example.com or http://127.0.0.1:8080).`);
    }
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
      await login(t, signal);
      relogged = true;
    }
    signal.throwIfAborted();
    const { default: pRetry } = await import("p-retry");
    const list = () => call(t, { op: "list", projectId, environment, secretPath }, signal);
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
          await login(t, signal);
          continue;
        }
        throw new Error(`Infisical list_secrets failed: ${message}`);
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
      if (closed) return done({}, "The Infisical provider is closed.");
      const signal = ctx.signal;
      const stopped = new Promise<never>((_, reject) => {
        const onAbort = () => reject(signal.reason);
        if (signal.aborted) onAbort();
        else signal.addEventListener("abort", onAbort, { once: true });
      });
      stopped.catch(() => undefined);
      try {
        return done(await Promise.race([fetchSecrets(config as InfisicalConfig, ctx), stopped]), null);
      } catch (error) {
        if (signal.aborted) {
          // A call in flight cannot be cancelled any other way than by terminating the
          // worker. A worker still starting is kept: killing it would make every fetch
          // with a deadline shorter than a cold start fail forever.
          const t = thread;
          if (t?.started) {
            thread = null;
            await t.terminate();
          }
          return done({}, "The fetch was cancelled.");
        }
        return done({}, redactCredentials((error as Error).message, ctx.credentials));
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

function count(option: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0) throw new TypeError(`createInfisicalProvider: \`${option}\` must be an integer >= 0`);
  return value;
}

/** Belt and braces: no credential value survives in a message, even if a server echoes it. */
function redactCredentials(message: string, credentials: FetchContext["credentials"]): string {
  let out = message;
  for (const name of INFISICAL_CREDENTIALS) {
    const value = credentials[name];
    if (value && value.length >= 4) out = out.split(value).join("***");
  }
  return out;
}
