// Doppler: the secrets download endpoint with plain `fetch` — cancellable by the plugin's
// signal and with real errors (@dopplerhq/node-sdk cannot be cancelled and throws an
// uncaught SyntaxError on the HTML 503 its edge can answer).
import type { FetchResult, ProviderConfig, SecretProvider } from "../types.js";
import { checkBaseUrl, countOption, failedFetch, HttpError, normalizeHost, normalizeValues, now, redact, requestJson, withRetries } from "./http-common.js";

export const DOPPLER_CREDENTIALS = ["DOPPLER_TOKEN"] as const;
export const DOPPLER_SETTINGS = ["DOPPLER_API_HOST"] as const;
export const DEFAULT_DOPPLER_HOST = "https://api.doppler.com";
/** Doppler adds these to every download; left out unless `include_doppler_vars = true`. */
const DOPPLER_VARS = ["DOPPLER_PROJECT", "DOPPLER_CONFIG", "DOPPLER_ENVIRONMENT"];

export const DOPPLER_NO_CREDENTIALS_MESSAGE =
  "No Doppler credentials in the process environment. Set DOPPLER_TOKEN (a service token dp.st.…, " +
  "or a personal/CLI token with project + config in [secret_manager]) in the shell that launched Strata.";

export interface DopplerProviderOptions {
  /** Retries of 429 (after its Retry-After) and 5xx; default 2. */
  retries?: number;
  /** First back-off delay when the answer has no Retry-After, ms (default 500). */
  retryMinTimeoutMs?: number;
}

interface DopplerConfig {
  project?: string;
  config?: string;
  include_doppler_vars?: boolean;
  base_url?: string;
}

/** `{"messages": ["Invalid Auth token"], "success": false}` -> "Invalid Auth token (HTTP 401)". */
function dopplerReason(body: unknown, status: number): string {
  const messages = (body as { messages?: unknown } | null)?.messages;
  if (Array.isArray(messages) && messages.length > 0) return `${messages.map(String).join("; ")} (HTTP ${status})`;
  if (typeof body === "string" && body.trim() !== "") return `HTTP ${status}: ${body.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim().slice(0, 160)}`;
  return `HTTP ${status}`;
}

/**
 * The Doppler provider. `[secret_manager]`: `project` and `config` (required with a
 * personal/CLI token; a service token's own scope wins, as the Doppler CLI does),
 * `include_doppler_vars`, `base_url` (must equal DOPPLER_API_HOST or the default host).
 */
export function createDopplerProvider(options: DopplerProviderOptions = {}): SecretProvider {
  const retries = countOption("createDopplerProvider", "retries", options.retries, 2);
  const minTimeoutMs = countOption("createDopplerProvider", "retryMinTimeoutMs", options.retryMinTimeoutMs, 500);
  return {
    name: "doppler",
    credentialNames: DOPPLER_CREDENTIALS,
    settingNames: DOPPLER_SETTINGS,
    configSchema: (z) =>
      z.strictObject({
        project: z.string().meta({ title: "Project", description: "optional with a service token" }).optional(),
        config: z.string().meta({ title: "Config", examples: ["dev", "stg", "prd"] }).optional(),
        include_doppler_vars: z.boolean().meta({ title: "Include DOPPLER_* variables", description: "DOPPLER_PROJECT, DOPPLER_CONFIG, DOPPLER_ENVIRONMENT" }).optional(),
        base_url: z.string().meta({ title: "Base URL", description: "must equal DOPPLER_API_HOST" }).optional(),
      }),
    async fetch(input: ProviderConfig, ctx): Promise<FetchResult> {
      const config = input as DopplerConfig;
      const c = ctx.credentials;
      const fail = (error: string): FetchResult => ({ secrets: {}, fetchedAt: now(), error: redact(error, c, DOPPLER_CREDENTIALS) });
      try {
        const host = normalizeHost("Doppler", "DOPPLER_API_HOST", c["DOPPLER_API_HOST"] || DEFAULT_DOPPLER_HOST);
        checkBaseUrl("Doppler", "DOPPLER_API_HOST", config.base_url, host);
        const token = c["DOPPLER_TOKEN"];
        if (!token) return fail(DOPPLER_NO_CREDENTIALS_MESSAGE);
        const serviceToken = token.startsWith("dp.st.");
        const query = new URLSearchParams({ format: "json" });
        if (!serviceToken) {
          if (!config.project || !config.config) return fail("Doppler configuration error: set project and config in [secret_manager] (a personal or CLI token is not scoped to one config).");
          query.set("project", config.project);
          query.set("config", config.config);
        }
        let answer;
        try {
          answer = await withRetries(
            () => requestJson(`${host}/v3/configs/config/secrets/download?${query}`, { headers: { authorization: `Bearer ${token}`, accept: "application/json" }, signal: ctx.signal }, dopplerReason),
            { signal: ctx.signal, retries, minTimeoutMs },
          );
        } catch (error) {
          if (ctx.signal.aborted) throw error;
          const reason = (error as Error).message;
          if (error instanceof HttpError && error.status === 401) return fail(`Doppler authentication failed: ${reason}`);
          return fail(`Doppler download failed: ${reason}`);
        }
        const body = answer.body;
        if (!body || typeof body !== "object" || Array.isArray(body)) return fail("Doppler download failed: the answer was not a JSON object of secrets");
        const all = body as Record<string, unknown>;
        const values = config.include_doppler_vars ? all : Object.fromEntries(Object.entries(all).filter(([k]) => !DOPPLER_VARS.includes(k)));
        const { secrets, refused } = normalizeValues(values, "Doppler");
        const result: FetchResult = { secrets, fetchedAt: now(), error: null };
        if (Object.keys(refused).length > 0) result.refused = refused;
        // A service token reads its own scope; say so when the notebook names another.
        const scope = { project: String(all["DOPPLER_PROJECT"] ?? ""), config: String(all["DOPPLER_CONFIG"] ?? "") };
        if (serviceToken && ((config.project && config.project !== scope.project) || (config.config && config.config !== scope.config))) {
          result.notice = `The Doppler service token is scoped to ${scope.project}/${scope.config}; [secret_manager] names ${config.project ?? scope.project}/${config.config ?? scope.config}, which the token cannot read. Showing ${scope.project}/${scope.config}.`;
        }
        return result;
      } catch (error) {
        return failedFetch(error, ctx, { own: /^(Doppler|Refused)/, wrap: "Doppler download failed", credentials: DOPPLER_CREDENTIALS });
      }
    },
  };
}
