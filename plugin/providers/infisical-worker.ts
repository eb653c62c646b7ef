// Runs @infisical/sdk off the kernel's thread so that a deadline or close() can stop it
// (the SDK itself cannot be cancelled). Credentials arrive in workerData only.
import { AsyncLocalStorage } from "node:async_hooks";
import { parentPort, workerData } from "node:worker_threads";
import { networkCause, unreachable } from "./network-errors.js";

export type WorkerAuth = { kind: "universal"; clientId: string; clientSecret: string } | { kind: "token"; token: string };

export interface WorkerStart {
  siteUrl: string;
  auth: WorkerAuth;
  /** file: URL of @infisical/sdk, resolved by the parent. */
  sdkUrl: string;
}

export type WorkerRequest =
  | { id: number; op: "login" }
  | { id: number; op: "list"; projectId: string; environment: string; secretPath: string };

export type WorkerReply =
  | { id: number; ok: true; exp: number | null }
  | { id: number; ok: true; secrets: [string, string][]; versions: [string, string][] }
  | { id: number; ok: false; name: string; message: string };

/** `exp` claim of a JWT in ms, or null when the token is not a JWT (service tokens). */
function jwtExpiry(token: string | null): number | null {
  const body = token?.split(".")[1];
  if (!body || token?.startsWith("st.")) return null;
  try {
    const exp: unknown = JSON.parse(Buffer.from(body, "base64url").toString("utf8")).exp;
    return typeof exp === "number" ? exp * 1000 : null;
  } catch {
    return null;
  }
}

interface RawSecret {
  secretKey?: unknown;
  secretValue?: unknown;
  version?: unknown;
}

/** Own secrets first, then imported ones whose key is not taken yet (as the SDK merges them). */
function flatten(res: unknown): { secrets: [string, string][]; versions: [string, string][] } {
  const body = res as { secrets?: unknown; imports?: unknown } | null;
  if (!body || typeof body !== "object" || !Array.isArray(body.secrets)) {
    throw new Error("the server's answer was not a secrets list");
  }
  const out = new Map<string, string>();
  const versions: [string, string][] = [];
  const take = (list: unknown) => {
    if (!Array.isArray(list)) return;
    for (const s of list as RawSecret[]) {
      if (!s || typeof s.secretKey !== "string" || typeof s.secretValue !== "string") {
        throw new Error("the server's answer holds an entry without secretKey/secretValue");
      }
      if (out.has(s.secretKey)) continue;
      out.set(s.secretKey, s.secretValue);
      // Infisical's own version of the secret (a rotation bumps it): provenance, never a value.
      if (typeof s.version === "number" || typeof s.version === "string") versions.push([s.secretKey, String(s.version)]);
    }
  };
  take(body.secrets);
  if (Array.isArray(body.imports)) for (const imp of body.imports as { secrets?: unknown }[]) take(imp?.secrets);
  return { secrets: [...out], versions };
}

const start = workerData as WorkerStart;

/**
 * The SDK retries network errors for ~15 s (1, 2, 4, 8 s) and then says only "fetch failed".
 * Its `fetch` is the global one: wrapped here, a host that refuses, does not resolve or
 * fails TLS is answered at once (TLS) or after its third attempt (~3 s), naming the host
 * and the cause. A dropped connection (ECONNRESET) is still left to the SDK's retries.
 */
interface Call {
  id: number;
  failures: number;
  answered: boolean;
}
const calls = new AsyncLocalStorage<Call>();
const realFetch = globalThis.fetch;
globalThis.fetch = async (input, init) => {
  const call = calls.getStore();
  try {
    return await realFetch(input, init);
  } catch (error) {
    const cause = networkCause(error);
    if (call && cause && !call.answered && (cause.fatal || ++call.failures >= 3)) {
      call.answered = true;
      const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
      parentPort!.postMessage({ id: call.id, ok: false, name: "NetworkError", message: unreachable(url, cause) } satisfies WorkerReply);
    }
    throw error;
  }
};
type SdkModule = typeof import("@infisical/sdk");
const mod = (await import(start.sdkUrl)) as SdkModule & { default?: SdkModule };
const InfisicalSDK = mod.InfisicalSDK ?? mod.default!.InfisicalSDK;
const sdk = new InfisicalSDK({ siteUrl: start.siteUrl });

parentPort!.on("message", (req: WorkerRequest) => {
  const call: Call = { id: req.id, failures: 0, answered: false };
  void calls.run(call, () => handle(req)).then((reply) => {
    if (!call.answered) parentPort!.postMessage(reply);
  });
});
parentPort!.postMessage({ ready: true });

async function handle(req: WorkerRequest): Promise<WorkerReply> {
  try {
    if (req.op === "login") {
      if (start.auth.kind === "universal") {
        await sdk.auth().universalAuth.login({ clientId: start.auth.clientId, clientSecret: start.auth.clientSecret });
      } else {
        sdk.auth().accessToken(start.auth.token);
      }
      return { id: req.id, ok: true, exp: jwtExpiry(sdk.auth().getAccessToken()) };
    }
    const res: unknown = await sdk.secrets().listSecrets({
      projectId: req.projectId,
      environment: req.environment,
      secretPath: req.secretPath,
      expandSecretReferences: true,
      includeImports: true,
      recursive: false,
    });
    return { id: req.id, ok: true, ...flatten(res) };
  } catch (error) {
    const e = error as { name?: unknown; message?: unknown } | null;
    return { id: req.id, ok: false, name: String(e?.name ?? "Error"), message: String(e?.message ?? error) };
  }
}
