import { randomBytes, randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { parse } from "smol-toml";
import { startInfisicalServer, type InfisicalServer, type ProjectSecrets } from "../fixtures/infisical-server/index.js";
import { packageRoot } from "./paths.js";

/** The demo secrets shipped with the package. */
export const DEMO_SECRETS_FILE = join(packageRoot(), "fixtures", "notebooks", "demo-secrets.toml");

export interface SecretsFile {
  project_id: string;
  secrets: ProjectSecrets;
}

/** Reads a secrets file (TOML or JSON): `project_id` and `secrets.<env>."<path>".KEY = "value"`. */
export async function readSecretsFile(path: string): Promise<SecretsFile> {
  const text = await readFile(path, "utf8");
  const data = (extname(path) === ".json" ? JSON.parse(text) : parse(text)) as Record<string, unknown>;
  const projectId = data["project_id"];
  const secrets = data["secrets"];
  if (typeof projectId !== "string" || !secrets || typeof secrets !== "object") {
    throw new Error(`${path}: expected project_id = "..." and [secrets.<environment>."<path>"] tables`);
  }
  for (const [env, folders] of Object.entries(secrets as Record<string, unknown>)) {
    for (const [folder, values] of Object.entries(folders as Record<string, unknown>)) {
      for (const [key, value] of Object.entries(values as Record<string, unknown>)) {
        if (typeof value !== "string") throw new Error(`${path}: secrets.${env}."${folder}".${key} must be a string`);
      }
    }
  }
  return { project_id: projectId, secrets: secrets as ProjectSecrets };
}

export interface DevServer {
  server: InfisicalServer;
  projectId: string;
  /** The variables a kernel needs to use this server. */
  credentials: { INFISICAL_HOST: string; INFISICAL_CLIENT_ID: string; INFISICAL_CLIENT_SECRET: string };
}

/** Starts the bundled Infisical-compatible server with one machine identity. */
export async function startDevServer(options: { port?: number; secretsFile?: string } = {}): Promise<DevServer> {
  const file = await readSecretsFile(options.secretsFile ?? DEMO_SECRETS_FILE);
  const clientId = randomUUID();
  const clientSecret = randomBytes(24).toString("hex");
  const server = await startInfisicalServer({
    ...(options.port !== undefined ? { port: options.port } : {}),
    projects: [{ id: file.project_id, secrets: file.secrets }],
    identities: [{ clientId, clientSecret }],
  });
  return {
    server,
    projectId: file.project_id,
    credentials: { INFISICAL_HOST: server.url, INFISICAL_CLIENT_ID: clientId, INFISICAL_CLIENT_SECRET: clientSecret },
  };
}

/** A manager's fixture serving the demo secrets: what to export and what to put in notebook.toml. */
export interface ManagerDevServer {
  url: string;
  exports: Record<string, string>;
  secretManager: string;
  close(): Promise<void>;
}

export const DEV_PROVIDERS = ["infisical", "vault", "aws", "doppler"] as const;

/**
 * Starts the fixture of `provider` (vault, aws, doppler) on 127.0.0.1 with the demo secrets
 * (each environment's "/" table; other paths become Vault paths / Doppler configs).
 */
export async function startManagerDevServer(provider: "vault" | "aws" | "doppler", options: { port?: number; secretsFile?: string } = {}): Promise<ManagerDevServer> {
  const file = await readSecretsFile(options.secretsFile ?? DEMO_SECRETS_FILE);
  const port = options.port !== undefined ? { port: options.port } : {};
  if (provider === "vault") {
    const { startVaultServer } = await import("../fixtures/vault-server/index.js");
    const secrets: Record<string, Record<string, string>> = {};
    for (const [env, folders] of Object.entries(file.secrets)) for (const [folder, values] of Object.entries(folders)) secrets[`${env}${folder === "/" ? "" : folder}`] = values;
    const roleId = randomUUID();
    const secretId = randomBytes(24).toString("hex");
    const server = await startVaultServer({ ...port, mounts: { secret: { secrets } }, approles: [{ roleId, secretId }] });
    return { url: server.url, exports: { VAULT_ADDR: server.url, VAULT_ROLE_ID: roleId, VAULT_SECRET_ID: secretId }, secretManager: `provider = "vault"\nmount = "secret"\npath = "dev"`, close: () => server.close() };
  }
  if (provider === "aws") {
    const { startAwsServer } = await import("../fixtures/aws-server/index.js");
    const accessKeyId = `AKIA${randomBytes(8).toString("hex").toUpperCase()}`;
    const secretAccessKey = randomBytes(30).toString("base64url");
    const secrets = Object.entries(file.secrets).flatMap(([env, folders]) => Object.entries(folders).map(([folder, values]) => ({ name: `${file.project_id}/${env}${folder === "/" ? "" : folder}`, string: JSON.stringify(values) })));
    const server = await startAwsServer({ ...port, region: "eu-west-1", secrets, keys: [{ accessKeyId, secretAccessKey }] });
    return {
      url: server.url,
      exports: { AWS_ENDPOINT_URL_SECRETS_MANAGER: server.url, AWS_REGION: "eu-west-1", AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey },
      secretManager: `provider = "aws"\nsecret_id = "${file.project_id}/dev"`,
      close: () => server.close(),
    };
  }
  const { startDopplerServer } = await import("../fixtures/doppler-server/index.js");
  const configs: Record<string, Record<string, string>> = {};
  for (const [env, folders] of Object.entries(file.secrets)) for (const [folder, values] of Object.entries(folders)) configs[`${env}${folder === "/" ? "" : `_${folder.replace(/^\//, "").replace(/\//g, "_")}`}`] = values;
  const token = `dp.st.dev.${randomBytes(20).toString("base64url")}`;
  const server = await startDopplerServer({ ...port, projects: { [file.project_id]: configs }, serviceTokens: [{ token, project: file.project_id, config: "dev" }] });
  return { url: server.url, exports: { DOPPLER_API_HOST: server.url, DOPPLER_TOKEN: token }, secretManager: `provider = "doppler"\nproject = "${file.project_id}"\nconfig = "dev"`, close: () => server.close() };
}
