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
