import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startInfisicalServer, type InfisicalServer, type InfisicalServerOptions } from "../fixtures/infisical-server/index.js";
import { secretForms } from "../redaction/encodings.js";

/** Canary values: if one of these (or an encoded form) shows up anywhere, a secret leaked. */
export const CANARY = {
  openai: "sk-canary-OPENAI-7f3a9c2e1b",
  db: "postgres://canary:Pa55-canary-db@db:5432/app",
  clientId: "canary-client-id-5d1e",
  clientSecret: "canary-client-secret-9b7c4a",
  token: "st.canarytok.canary-service-secret-2f8e",
  appSecret: "canary-app-folder-secret-6611",
  rotated: "sk-canary-ROTATED-42aa",
  vaultSecretId: "canary-vault-secret-id-0c7e1d",
  vaultToken: "hvs.canary-vault-static-token-55b2",
  vaultValue: "canary-vault-db-password-3e91",
  awsSecretKey: "canary/aws+secret+access+key+77d0",
  awsValue: "canary-aws-api-token-a8c4",
  dopplerToken: "dp.st.dev.canary-doppler-token-19f6",
  dopplerValue: "canary-doppler-stripe-key-4b02",
} as const;

export const PROJECT = "722b7d80-acda-4b40-ae0b-a9f9dfeaaad4";

/** Every string that must never be found outside memory. */
export function canaryForms(extra: string[] = []): string[] {
  return [...Object.values(CANARY), ...extra].flatMap((v) => secretForms(v)).filter((f) => f.length >= 8);
}

/** The default fixture: one project, dev:/ and dev:/app, one identity, one service token. */
export function fixtureOptions(overrides: Partial<InfisicalServerOptions> = {}): InfisicalServerOptions {
  return {
    projects: [
      {
        id: PROJECT,
        slug: "fidelity-test",
        secrets: {
          dev: {
            "/": { OPENAI_API_KEY: CANARY.openai, DATABASE_URL: CANARY.db, API_HOST: "api.example.test" },
            "/app": { APP_SECRET: CANARY.appSecret, APP_PORT: "3000" },
          },
          prod: { "/": { OPENAI_API_KEY: "sk-prod-value-000", ONLY_PROD: "prod-only" } },
        },
      },
      { id: "acb4e9e0-170f-413e-8a31-4c555033f4c2", secrets: { dev: { "/": { OTHER: "other-project" } } } },
    ],
    identities: [
      { clientId: CANARY.clientId, clientSecret: CANARY.clientSecret, projects: [PROJECT] },
    ],
    serviceTokens: [{ token: CANARY.token, projectId: PROJECT, environment: "dev", secretPath: "/" }],
    ...overrides,
  };
}

export function startFixture(overrides: Partial<InfisicalServerOptions> = {}): Promise<InfisicalServer> {
  return startInfisicalServer(fixtureOptions(overrides));
}

/** Credentials for the identity of the default fixture. */
export function identityCredentials(server: InfisicalServer): Record<string, string> {
  return { INFISICAL_HOST: server.url, INFISICAL_CLIENT_ID: CANARY.clientId, INFISICAL_CLIENT_SECRET: CANARY.clientSecret };
}

export async function tempDir(prefix = "strata-"): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export async function writeNotebook(dir: string, text: string): Promise<string> {
  const path = join(dir, "notebook.toml");
  await writeFile(path, text);
  return path;
}

export function notebookToml(opts: { path?: string; environment?: string; env?: string; extra?: string; projectId?: string } = {}): string {
  return [
    "# a Strata notebook",
    'name = "demo"',
    "",
    "[secret_manager]",
    'provider = "infisical"',
    `project_id = "${opts.projectId ?? PROJECT}"`,
    `environment = "${opts.environment ?? "dev"}"`,
    `path = "${opts.path ?? "/"}"`,
    "",
    "[env]",
    opts.env ?? 'LOG_LEVEL = "info"\nOPENAI_API_KEY = ""',
    "",
    opts.extra ?? "",
  ].join("\n");
}

/** Polls `check` until it returns a truthy value; fails after `timeoutMs`. Never a fixed sleep. */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs = 10_000, what = "condition"): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** Paths of files under `dir` that hold a canary form (should be none). */
export async function canaryFilesUnder(dir: string, extra: string[] = []): Promise<string[]> {
  const forms = canaryForms(extra);
  const hits: string[] = [];
  for (const path of await walk(dir)) {
    const text = await readFile(path, "utf8");
    if (forms.some((f) => text.includes(f))) hits.push(path);
  }
  return hits;
}

/** Canary forms found in any string of a JSON-able value (events, rows, errors). */
export function canariesIn(value: unknown, extra: string[] = []): string[] {
  const text = typeof value === "string" ? value : JSON.stringify(value, (_k, v: unknown) => (v instanceof Error ? { name: v.name, message: v.message, stack: v.stack } : v));
  return canaryForms(extra).filter((f) => text.includes(f));
}

/**
 * Whether a test that needs a system package runs: always in CI (where .ci/run installs it,
 * so a missing package fails the test), elsewhere only when `found`, with a warning if not.
 */
export function runsWith(found: boolean, missing: string): boolean {
  if (found || process.env["CI"] === "true") return true;
  console.warn(`skipped: ${missing}`);
  return false;
}

/**
 * Starts a fixture server with `options`, runs `run` with it, and closes it even when an
 * assertion fails.
 * @example const withVault = serverScope(startVaultServer);
 */
export function serverScope<O, S extends { close(): Promise<void> }>(start: (options: O) => Promise<S>): (options: O, run: (server: S) => Promise<void>) => Promise<void> {
  return async (options, run) => {
    const server = await start(options);
    try {
      await run(server);
    } finally {
      await server.close();
    }
  };
}
