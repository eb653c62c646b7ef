import { childController, deadlineMessage } from "./deadline.js";
import { createInfisicalProvider } from "./providers/infisical.js";
import type { FetchContext, FetchResult, SecretManagerConfig, SecretProvider } from "./types.js";

/** Built-in providers, created per plugin (each holds its own worker and token). */
export function builtinProviders(): Map<string, SecretProvider> {
  return new Map([["infisical", createInfisicalProvider()]]);
}

/** Built-ins overlaid with the caller's providers. */
export function createRegistry(extra: Record<string, SecretProvider> = {}): Map<string, SecretProvider> {
  const registry = builtinProviders();
  for (const [name, provider] of Object.entries(extra)) {
    const replaced = registry.get(name);
    if (replaced && replaced !== provider) void replaced.close?.();
    registry.set(name, provider);
  }
  return registry;
}

export function failure(source: string, error: string): FetchResult {
  return { secrets: {}, source, fetchedAt: new Date().toISOString(), error };
}

/** A provider's answer checked for shape: a garbage answer becomes a failure, never a crash. */
function checkResult(name: string, result: unknown): FetchResult {
  const r = result as Partial<FetchResult> | null;
  if (!r || typeof r !== "object") return failure(name, `Secret provider '${name}' returned no result.`);
  if (typeof r.error === "string" && r.error !== "") return failure(name, r.error);
  if (!r.secrets || typeof r.secrets !== "object") return failure(name, `Secret provider '${name}' returned no secrets object.`);
  const secrets: [string, string][] = [];
  for (const [key, value] of Object.entries(r.secrets)) {
    if (typeof value !== "string") return failure(name, `Secret provider '${name}' returned a non-string value for '${key}'.`);
    secrets.push([key, value]);
  }
  return {
    secrets: Object.fromEntries(secrets),
    source: name,
    fetchedAt: typeof r.fetchedAt === "string" ? r.fetchedAt : new Date().toISOString(),
    error: null,
  };
}

/**
 * Runs the configured provider under a deadline. Never throws: unknown or missing
 * providers, throwing providers, late or malformed answers all become a failure result.
 */
export async function runProvider(
  registry: Map<string, SecretProvider>,
  config: SecretManagerConfig,
  ctx: Omit<FetchContext, "signal"> & { signal: AbortSignal },
): Promise<FetchResult> {
  const name = config.provider;
  if (!name) return failure("", "[secret_manager].provider is missing: set provider = \"infisical\".");
  const provider = registry.get(name);
  if (!provider) return failure(name, `Unknown secret provider: '${name}'`);
  const { controller: deadline, dispose } = childController(ctx.signal);
  const signal = deadline.signal;
  let timer: NodeJS.Timeout | undefined;
  // A grace period lets a provider that enforces the deadline itself report its own message.
  const late = new Promise<FetchResult>((resolve) => {
    timer = setTimeout(() => {
      deadline.abort();
      resolve(failure(name, deadlineMessage(ctx.timeoutMs)));
    }, ctx.timeoutMs + 250);
  });
  try {
    const answer = provider.fetch(config, { ...ctx, signal }).then(
      (r) => checkResult(name, r),
      (e: unknown) => failure(name, `Secret provider '${name}' threw: ${e instanceof Error ? e.message : String(e)}`),
    );
    return await Promise.race([answer, late]);
  } finally {
    clearTimeout(timer);
    dispose();
  }
}
