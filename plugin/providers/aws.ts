// AWS Secrets Manager with the official @aws-sdk/client-secrets-manager (loaded on first
// use). Region, endpoint and credentials are passed to the client explicitly from the
// snapshot taken when the plugin was created: the SDK never reads process.env (which the
// plugin patches from [env] and the manager) to decide where requests go or who signs them.
import type { FetchContext, FetchResult, ProviderConfig, SecretProvider } from "../types.js";
import { checkBaseUrl, countOption, failedFetch, normalizeHost, normalizeValues, now } from "./http-common.js";

/** Masked in output; left in the env cells see unless `scrubCredentials: true`. */
export const AWS_CREDENTIALS = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"] as const;
/** Read once at creation: where the chain looks and where requests go. */
export const AWS_SETTINGS = [
  "AWS_REGION",
  "AWS_DEFAULT_REGION",
  "AWS_PROFILE",
  "AWS_CONFIG_FILE",
  "AWS_SHARED_CREDENTIALS_FILE",
  "AWS_ENDPOINT_URL",
  "AWS_ENDPOINT_URL_SECRETS_MANAGER",
  "AWS_ROLE_ARN",
  "AWS_ROLE_SESSION_NAME",
  "AWS_WEB_IDENTITY_TOKEN_FILE",
] as const;

export const AWS_NO_CREDENTIALS_MESSAGE =
  "No AWS credentials for Secrets Manager: set AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY, AWS_PROFILE, SSO, " +
  "or run with a container/instance role, in the shell that launched Strata.";

export interface AwsProviderOptions {
  /**
   * Remove the AWS keys from the env cells see, like the other managers' credentials. Off by
   * default: AWS keys in a kernel's environment are usually there for the cells (S3,
   * Bedrock…), and a built-in provider's credentials would be removed from every notebook,
   * not only those that use AWS Secrets Manager. Either way they are masked in output.
   */
  scrubCredentials?: boolean;
  /** SDK attempts per fetch (throttling and 5xx are retried, inside the deadline); default 3. */
  maxAttempts?: number;
}

interface AwsConfig {
  secret_id?: string;
  region?: string;
  version_stage?: string;
  base_url?: string;
}

/** Error names that mean the credentials themselves are wrong, missing or expired. */
const AUTH_ERRORS = new Set([
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "ExpiredTokenException",
  "ExpiredToken",
  "InvalidClientTokenId",
  "SignatureDoesNotMatch",
  "IncompleteSignatureException",
  "MissingAuthenticationTokenException",
  "CredentialsProviderError",
]);

type Sdk = typeof import("@aws-sdk/client-secrets-manager");
type CredentialProviders = typeof import("@aws-sdk/credential-providers");

/**
 * The AWS Secrets Manager provider. `[secret_manager]`: `secret_id` (a secret whose value is
 * a JSON object: each key becomes a variable), `region` (default AWS_REGION /
 * AWS_DEFAULT_REGION), `version_stage` (default AWSCURRENT), `base_url` (must equal the
 * endpoint in use).
 */
export function createAwsProvider(options: AwsProviderOptions = {}): SecretProvider {
  const maxAttempts = Math.max(1, countOption("createAwsProvider", "maxAttempts", options.maxAttempts, 3));
  const scrub = options.scrubCredentials === true;
  let sdk: Promise<[Sdk, CredentialProviders]> | null = null;
  const load = () => (sdk ??= Promise.all([import("@aws-sdk/client-secrets-manager"), import("@aws-sdk/credential-providers")]));
  /** One client per region + endpoint + credential source, kept for its connections and cached credentials. */
  const clients = new Map<string, InstanceType<Sdk["SecretsManagerClient"]>>();

  async function clientFor(region: string, endpoint: string, c: FetchContext["credentials"]) {
    const [{ SecretsManagerClient }, providers] = await load();
    const key = `${region}|${endpoint}|${c["AWS_ACCESS_KEY_ID"] ?? ""}|${c["AWS_PROFILE"] ?? ""}`;
    let client = clients.get(key);
    if (!client) {
      client = quietly(() => new SecretsManagerClient({
        region,
        endpoint,
        credentials: credentialsFrom(c, providers),
        maxAttempts,
        retryMode: "standard",
        useFipsEndpoint: false,
        useDualstackEndpoint: false,
        logger: { debug() {}, info() {}, warn() {}, error() {} },
      }));
      clients.set(key, client);
    }
    return client;
  }

  async function get(config: AwsConfig, ctx: FetchContext): Promise<FetchResult> {
    const c = ctx.credentials;
    const secretId = config.secret_id?.trim();
    if (!secretId) throw new Error("AWS Secrets Manager configuration error: set secret_id in [secret_manager] (a secret whose value is a JSON object).");
    const region = config.region ?? c["AWS_REGION"] ?? c["AWS_DEFAULT_REGION"];
    if (!region) throw new Error("AWS Secrets Manager configuration error: no region. Set region in [secret_manager], or AWS_REGION in the shell that launched Strata.");
    if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) throw new Error(`AWS Secrets Manager configuration error: '${region}' is not an AWS region (for example eu-west-1).`);
    const configured = c["AWS_ENDPOINT_URL_SECRETS_MANAGER"] || c["AWS_ENDPOINT_URL"];
    const variable = c["AWS_ENDPOINT_URL_SECRETS_MANAGER"] ? "AWS_ENDPOINT_URL_SECRETS_MANAGER" : "AWS_ENDPOINT_URL";
    const endpoint = configured ? normalizeHost("AWS Secrets Manager", variable, configured) : `https://secretsmanager.${region}.amazonaws.com${region.startsWith("cn-") ? ".cn" : ""}`;
    checkBaseUrl("AWS Secrets Manager", configured ? variable : "the regional endpoint", config.base_url, endpoint);
    const client = await clientFor(region, endpoint, c);
    const { GetSecretValueCommand } = (await load())[0];
    let answer;
    try {
      answer = await client.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: config.version_stage ?? "AWSCURRENT" }), { abortSignal: ctx.signal });
    } catch (error) {
      ctx.signal.throwIfAborted();
      throw new Error(describe(error));
    }
    if (answer.SecretString === undefined) {
      throw new Error(`AWS Secrets Manager get_secret_value failed: '${secretId}' is a binary secret; store key/value pairs as a JSON object in SecretString.`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(answer.SecretString);
    } catch {
      parsed = undefined;
    }
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
      throw new Error(`AWS Secrets Manager get_secret_value failed: the value of '${secretId}' is not a JSON object; store key/value pairs (for example {"DB_PASSWORD": "…"}).`);
    }
    const { secrets, refused } = normalizeValues(parsed as Record<string, unknown>, "AWS Secrets Manager");
    const result: FetchResult = { secrets, fetchedAt: now(), error: null };
    if (Object.keys(refused).length > 0) result.refused = refused;
    if (answer.VersionId) result.versions = Object.fromEntries(Object.keys(secrets).map((k) => [k, answer.VersionId!]));
    return result;
  }

  return {
    name: "aws",
    credentialNames: scrub ? AWS_CREDENTIALS : [],
    sharedCredentialNames: scrub ? [] : AWS_CREDENTIALS,
    settingNames: AWS_SETTINGS,
    configSchema: (z) =>
      z.strictObject({
        secret_id: z.string().meta({ title: "Secret ID", description: "name or ARN of a secret holding a JSON object", examples: ["prod/notebook"] }),
        region: z.string().meta({ title: "Region", description: "default: AWS_REGION / AWS_DEFAULT_REGION", examples: ["eu-west-1"] }).optional(),
        version_stage: z.string().meta({ title: "Version stage", description: "default: AWSCURRENT" }).optional(),
        base_url: z.string().meta({ title: "Endpoint URL", description: "must equal AWS_ENDPOINT_URL_SECRETS_MANAGER / AWS_ENDPOINT_URL" }).optional(),
      }),
    prepare() {
      void load().catch(() => undefined); // the SDK takes a while to load: start now
    },
    async fetch(config: ProviderConfig, ctx): Promise<FetchResult> {
      try {
        return await get(config as AwsConfig, ctx);
      } catch (error) {
        return failedFetch(error, ctx, { own: /^(AWS Secrets Manager|No AWS|Refused)/, wrap: "AWS Secrets Manager get_secret_value failed", credentials: AWS_CREDENTIALS });
      }
    },
    async close() {
      for (const client of clients.values()) client.destroy();
      clients.clear();
    },
  };
}

/**
 * Runs `make` with the AWS SDK's NodeVersionSupportWarning (emitted once, from a client's
 * constructor, on Node < 22) kept off stderr: it would land in a cell's output. Other
 * warnings pass through.
 */
function quietly<T>(make: () => T): T {
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (String(warning instanceof Error ? warning.message : warning).startsWith("NodeVersionSupportWarning")) return;
    (emit as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return make();
  } finally {
    process.emitWarning = emit;
  }
}

/**
 * Static keys from the snapshot when present; otherwise the SDK's chain without its
 * environment step (profile, SSO, web identity, container and instance roles), pointed at
 * the snapshot's profile and files.
 */
function credentialsFrom(c: FetchContext["credentials"], p: CredentialProviders) {
  if (c["AWS_ACCESS_KEY_ID"] && c["AWS_SECRET_ACCESS_KEY"]) {
    return { accessKeyId: c["AWS_ACCESS_KEY_ID"], secretAccessKey: c["AWS_SECRET_ACCESS_KEY"], ...(c["AWS_SESSION_TOKEN"] ? { sessionToken: c["AWS_SESSION_TOKEN"] } : {}) };
  }
  const files = { ...(c["AWS_PROFILE"] ? { profile: c["AWS_PROFILE"] } : {}), ...(c["AWS_SHARED_CREDENTIALS_FILE"] ? { filepath: c["AWS_SHARED_CREDENTIALS_FILE"] } : {}), ...(c["AWS_CONFIG_FILE"] ? { configFilepath: c["AWS_CONFIG_FILE"] } : {}) };
  const chain = [
    p.fromIni(files),
    p.fromSSO(files),
    ...(c["AWS_ROLE_ARN"] && c["AWS_WEB_IDENTITY_TOKEN_FILE"] ? [p.fromTokenFile({ roleArn: c["AWS_ROLE_ARN"], webIdentityTokenFile: c["AWS_WEB_IDENTITY_TOKEN_FILE"], ...(c["AWS_ROLE_SESSION_NAME"] ? { roleSessionName: c["AWS_ROLE_SESSION_NAME"] } : {}) })] : []),
    p.fromContainerMetadata({ timeout: 1000, maxRetries: 0 }),
    p.fromInstanceMetadata({ timeout: 1000, maxRetries: 0 }),
  ];
  return p.createCredentialChain(...chain);
}

/** The seed's wording: authentication failures apart from everything else; AWS's reason kept. */
function describe(error: unknown): string {
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = e.name ?? "Error";
  const reason = `${name}: ${e.message ?? String(error)}`;
  if (name === "CredentialsProviderError" || /Could not load credentials/i.test(e.message ?? "")) return AWS_NO_CREDENTIALS_MESSAGE;
  if (AUTH_ERRORS.has(name)) return `AWS Secrets Manager authentication failed: ${reason}`;
  return `AWS Secrets Manager get_secret_value failed: ${reason}`;
}
