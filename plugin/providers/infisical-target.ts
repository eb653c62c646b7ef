// What an Infisical fetch needs, resolved from [secret_manager] and the kernel's snapshot, and
// the rules for reading Infisical's answers. No I/O here.
import type { FetchContext } from "../types.js";

/** The kernel's Infisical credentials: scrubbed from cells, masked in output. */
export const INFISICAL_CREDENTIALS = ["INFISICAL_CLIENT_ID", "INFISICAL_CLIENT_SECRET", "INFISICAL_TOKEN"] as const;
export const INFISICAL_SETTINGS = ["INFISICAL_HOST", "INFISICAL_PROJECT_ID", "INFISICAL_ENVIRONMENT", "INFISICAL_PATH"] as const;
export const DEFAULT_INFISICAL_HOST = "https://app.infisical.com";

export const NO_CREDENTIALS_MESSAGE =
  "No Infisical credentials in the process environment. Set either INFISICAL_CLIENT_ID + " +
  "INFISICAL_CLIENT_SECRET (Machine Identity / Universal Auth, recommended) or " +
  "INFISICAL_TOKEN (service token, legacy) in the shell that launched Strata.";

export interface InfisicalConfig {
  project_id?: string;
  environment?: string;
  path?: string;
  base_url?: string;
}

export type InfisicalAuth = { kind: "universal"; clientId: string; clientSecret: string } | { kind: "token"; token: string };

type Credentials = FetchContext["credentials"];

function normalizeHost(url: string): string {
  return url.trim().replace(/\/+$/, "");
}

/** The host this kernel logs in to (INFISICAL_HOST or the cloud), checked for a scheme. */
export function hostOf(c: Credentials): string {
  const host = normalizeHost(c["INFISICAL_HOST"] || DEFAULT_INFISICAL_HOST);
  if (!/^https?:\/\/[^/]/i.test(host)) {
    throw new Error(`Infisical configuration error: INFISICAL_HOST (${host}) must start with http:// or https:// (for example https://infisical.example.com or http://127.0.0.1:8080).`);
  }
  return host;
}

/** Machine Identity when both kinds are set, else the service token; throws when neither. */
export function authOf(c: Credentials): InfisicalAuth {
  if (c["INFISICAL_CLIENT_ID"] && c["INFISICAL_CLIENT_SECRET"]) return { kind: "universal", clientId: c["INFISICAL_CLIENT_ID"], clientSecret: c["INFISICAL_CLIENT_SECRET"] };
  if (c["INFISICAL_TOKEN"]) return { kind: "token", token: c["INFISICAL_TOKEN"] };
  throw new Error(NO_CREDENTIALS_MESSAGE);
}

/** Everything one fetch needs; throws the seed's messages for what is missing or refused. */
export function resolveTarget(config: InfisicalConfig, c: Credentials) {
  const projectId = config.project_id ?? c["INFISICAL_PROJECT_ID"];
  if (!projectId) throw new Error("Infisical project_id is missing: set project_id in [secret_manager] or INFISICAL_PROJECT_ID.");
  const environment = config.environment ?? c["INFISICAL_ENVIRONMENT"] ?? "dev";
  const secretPath = config.path ?? c["INFISICAL_PATH"] ?? "/";
  const host = hostOf(c);
  if (config.base_url !== undefined && normalizeHost(config.base_url) !== host) {
    throw new Error(
      `Refused: [secret_manager].base_url (${normalizeHost(config.base_url)}) is not the Infisical host this kernel logs in to ` +
        `(INFISICAL_HOST = ${host}); logging in there would send the kernel's credentials to it. ` +
        "Set INFISICAL_HOST in the shell that launched Strata, or remove base_url.",
    );
  }
  return { projectId, environment, secretPath, host, auth: authOf(c) };
}

/**
 * An error answer in the words @infisical/sdk 5.0.2 used (users grep for them):
 * `[URL=…] [Method=GET] [StatusCode=403] <server message>`. The server's `message` may be
 * an array (validation failures) or absent (an edge proxy's HTML page): both still read.
 */
export function infisicalReason(url: string, method: string) {
  return (body: unknown, status: number): string => {
    const message = (body as { message?: unknown } | null)?.message;
    let text: string;
    if (typeof message === "string") text = message;
    else if (Array.isArray(message) && message.length > 0) text = message.map((m) => (typeof m === "string" ? m : ((m as { message?: unknown })?.message ?? JSON.stringify(m)))).join("; ");
    else if (typeof body === "string" && body.trim() !== "") text = body.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim().slice(0, 160);
    else text = `Request failed with status ${status}`;
    return `[URL=${url}] [Method=${method}] [StatusCode=${status}] ${text}`;
  };
}

/** HTTP status in an error message: `[StatusCode=N]` or `Request failed with status N`. */
export function statusOf(message: string): number | null {
  const m = /\[StatusCode=(\d{3})\]/.exec(message) ?? /Request failed with status (\d{3})/.exec(message);
  return m ? Number(m[1]) : null;
}

/** A 401, or a 403 about the token itself (expired, malformed, bad signature): log in again. */
export function isTokenError(message: string): boolean {
  const status = statusOf(message);
  return status === 401 || (status === 403 && /token|signature|re-authenticate/i.test(message.replace(/^\[URL=[^\]]*\]/, "")));
}

/** `exp` claim of a JWT in ms, or null when the token is not a JWT (service tokens). */
export function jwtExpiry(token: string): number | null {
  const body = token.split(".")[1];
  if (!body || token.startsWith("st.")) return null;
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

/** Own secrets first, then imported ones whose key is not taken yet (as the SDK merged them). */
export function flattenSecrets(res: unknown): { secrets: Record<string, string>; versions: Record<string, string> } {
  const body = res as { secrets?: unknown; imports?: unknown } | null;
  if (!body || typeof body !== "object" || !Array.isArray(body.secrets)) {
    throw new Error("the server's answer was not a secrets list");
  }
  const secrets = new Map<string, string>();
  const versions: Record<string, string> = {};
  const take = (list: unknown) => {
    if (!Array.isArray(list)) return;
    for (const s of list as RawSecret[]) {
      if (!s || typeof s.secretKey !== "string" || typeof s.secretValue !== "string") {
        throw new Error("the server's answer holds an entry without secretKey/secretValue");
      }
      if (secrets.has(s.secretKey)) continue;
      secrets.set(s.secretKey, s.secretValue);
      // Infisical's own version of the secret (a rotation bumps it): provenance, never a value.
      if (typeof s.version === "number" || typeof s.version === "string") versions[s.secretKey] = String(s.version);
    }
  };
  take(body.secrets);
  if (Array.isArray(body.imports)) for (const imp of body.imports as { secrets?: unknown }[]) take(imp?.secrets);
  return { secrets: Object.fromEntries(secrets), versions };
}
