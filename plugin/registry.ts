import { childController, deadlineMessage } from "./deadline.js";
import { builtinProviders } from "./providers/builtin.js";

export { builtinProviders };
import type { FetchResult, ProviderConfig, SecretProvider } from "./types.js";

type Env = Readonly<Record<string, string | undefined>>;

/** The providers of one plugin by `provider` name, with the env each one snapshotted. */
export interface Registry {
  providers: ReadonlyMap<string, SecretProvider>;
  /** Per provider name: its credentialNames and settingNames, read once at creation. */
  credentials: ReadonlyMap<string, Env>;
  /** Every provider's credential names (what leaves the cells' env). */
  credentialNames: ReadonlySet<string>;
  /** The values of those and of shared credentials in the snapshot (masked in output like secrets). */
  credentialValues: readonly string[];
  /** Closes every provider (requests in flight, watchers, clients). */
  close(): Promise<void>;
}

/** Throws a TypeError naming the option when `provider` does not follow protocol v2. */
export function checkProvider(where: string, provider: unknown): asserts provider is SecretProvider {
  const p = provider as Partial<SecretProvider> | null;
  const fail = (what: string) => {
    throw new TypeError(`createSecretManagerPlugin: \`${where}\` ${what}`);
  };
  if (!p || typeof p !== "object") fail("must be a SecretProvider object");
  if (typeof p!.name !== "string" || p!.name === "") fail("must have a non-empty string `name`");
  if (!Array.isArray(p!.credentialNames) || p!.credentialNames.some((n) => typeof n !== "string")) fail("must have `credentialNames`: string[]");
  if (p!.settingNames !== undefined && (!Array.isArray(p!.settingNames) || p!.settingNames.some((n) => typeof n !== "string"))) fail("`settingNames` must be string[]");
  if (p!.sharedCredentialNames !== undefined && (!Array.isArray(p!.sharedCredentialNames) || p!.sharedCredentialNames.some((n) => typeof n !== "string"))) fail("`sharedCredentialNames` must be string[]");
  if (typeof p!.configSchema !== "function") fail("must have `configSchema(z)` returning a zod object");
  if (typeof p!.fetch !== "function") fail("must have `fetch(config, ctx)`");
  if (p!.close !== undefined && typeof p!.close !== "function") fail("`close` must be a function");
  if (p!.prepare !== undefined && typeof p!.prepare !== "function") fail("`prepare` must be a function");
}

/**
 * Built-ins overlaid with the caller's providers; each provider's credential and setting
 * names are read from `source` now, once.
 */
export function createRegistry(extra: Readonly<Record<string, SecretProvider>>, source: Env): Registry {
  const providers = builtinProviders();
  for (const [name, provider] of Object.entries(extra)) {
    const replaced = providers.get(name);
    if (replaced && replaced !== provider) void replaced.close?.();
    providers.set(name, provider);
  }
  const credentials = new Map<string, Env>();
  const credentialNames = new Set<string>();
  const masked = new Set<string>();
  for (const [name, p] of providers) {
    const names = [...p.credentialNames, ...(p.sharedCredentialNames ?? []), ...(p.settingNames ?? [])];
    credentials.set(name, Object.freeze(Object.fromEntries(names.filter((n) => source[n] !== undefined).map((n) => [n, source[n]]))));
    for (const n of p.credentialNames) credentialNames.add(n);
    for (const n of [...p.credentialNames, ...(p.sharedCredentialNames ?? [])]) masked.add(n);
  }
  const credentialValues = [...new Set([...masked].map((n) => source[n]).filter((v): v is string => typeof v === "string" && v !== ""))];
  return {
    providers,
    credentials,
    credentialNames,
    credentialValues,
    close: async () => void (await Promise.allSettled([...providers.values()].map((p) => p.close?.()))),
  };
}

/** Lets the provider named in notebook.toml start what is slow (an SDK import) before the first fetch. */
export function prepareProvider(registry: Registry, name: string | null): void {
  const provider = name === null ? undefined : registry.providers.get(name);
  try {
    provider?.prepare?.({ credentials: registry.credentials.get(name!) ?? {} });
  } catch {
    // A hint only: the fetch reports what is wrong.
  }
}

export function failure(error: string): FetchResult {
  return { secrets: {}, fetchedAt: new Date().toISOString(), error };
}

/** A provider's answer checked for shape: a garbage answer becomes a failure, never a crash. */
function checkResult(name: string, result: unknown): FetchResult {
  const r = result as Partial<FetchResult> | null;
  if (!r || typeof r !== "object") return failure(`Secret provider '${name}' returned no result.`);
  if (typeof r.error === "string" && r.error !== "") return { ...failure(r.error), ...(typeof r.notice === "string" ? { notice: r.notice } : {}) };
  if (!r.secrets || typeof r.secrets !== "object") return failure(`Secret provider '${name}' returned no secrets object.`);
  for (const [key, value] of Object.entries(r.secrets)) {
    if (typeof value !== "string") return failure(`Secret provider '${name}' returned a non-string value for '${key}'.`);
  }
  // Not copied here: the session copies the values into its own Map.
  const out: FetchResult = { secrets: r.secrets as Record<string, string>, fetchedAt: typeof r.fetchedAt === "string" ? r.fetchedAt : new Date().toISOString(), error: null };
  const strings = (x: unknown) => (x && typeof x === "object" ? Object.fromEntries(Object.entries(x).filter(([, v]) => typeof v === "string")) : undefined);
  const refused = strings(r.refused);
  const versions = strings(r.versions);
  if (refused && Object.keys(refused).length > 0) out.refused = refused;
  if (versions && Object.keys(versions).length > 0) out.versions = versions;
  if (typeof r.notice === "string") out.notice = r.notice;
  return out;
}

/**
 * Runs a provider under the one deadline of a fetch: at `timeoutMs` its signal aborts and
 * the deadline message is the result (a late answer is discarded). Never throws: throwing
 * providers and malformed answers become failure results.
 */
export async function runProvider(
  registry: Registry,
  name: string,
  config: ProviderConfig,
  ctx: { signal: AbortSignal; timeoutMs: number; notebookDir?: string },
): Promise<FetchResult> {
  const provider = registry.providers.get(name);
  if (!provider) return failure(`Unknown secret provider: '${name}'`);
  const { controller, dispose } = childController(ctx.signal);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<FetchResult>((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new Error("deadline"));
      resolve(failure(deadlineMessage(ctx.timeoutMs)));
    }, ctx.timeoutMs);
  });
  try {
    const answer = Promise.resolve()
      .then(() => provider.fetch(config, { signal: controller.signal, timeoutMs: ctx.timeoutMs, credentials: registry.credentials.get(name) ?? {}, notebookDir: ctx.notebookDir ?? process.cwd() }))
      .then(
        (r) => checkResult(provider.name, r),
        (e: unknown) => failure(`Secret provider '${provider.name}' threw: ${e instanceof Error ? e.message : String(e)}`),
      );
    return await Promise.race([answer, late]);
  } finally {
    clearTimeout(timer);
    dispose();
  }
}
