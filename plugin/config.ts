import { parse, TomlError } from "smol-toml";
import { z } from "zod";
import type { SecretManagerConfig } from "./types.js";

/** The keys `[secret_manager]` may hold, in the order they are written. */
export const SECRET_MANAGER_KEYS = ["provider", "project_id", "environment", "path", "base_url"] as const;

const secretManagerSchema = z.strictObject({
  provider: z.string().optional(),
  project_id: z.string().optional(),
  environment: z.string().optional(),
  path: z.string().optional(),
  base_url: z.string().optional(),
});

const envSchema = z.record(z.string(), z.string());

const cellSchema = z.looseObject({
  id: z.string(),
  file: z.string().optional(),
  language: z.string().optional(),
  order: z.number().optional(),
  env: envSchema.optional(),
});

export interface CellConfig {
  id: string;
  file?: string;
  language?: string;
  order?: number;
  env: Map<string, string>;
}

/**
 * What the plugin reads from notebook.toml. A section that failed validation is
 * `undefined` ("keep the last good one") and its message is in `errors`.
 */
export interface ParsedNotebook {
  secretManager: SecretManagerConfig | null | undefined;
  env: Map<string, string> | undefined;
  cells: CellConfig[] | undefined;
  errors: string[];
}

/** Formats zod issues as `[table].field: message`, never echoing an input value. */
function describe(table: string, error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      if (issue.code === "unrecognized_keys") {
        return issue.keys.map((k) => `${table}: unknown key '${k}' (expected one of ${SECRET_MANAGER_KEYS.join(", ")})`).join("; ");
      }
      const where = [table, ...issue.path.map(String)].join(".");
      const what = issue.code === "invalid_type" ? `must be a ${issue.expected}` : "is invalid";
      return `${where}: ${what}`;
    })
    .join("; ");
}

/** Trims values and drops empty ones: the canonical form of a `[secret_manager]`. */
export function normalizeSecretManager(config: SecretManagerConfig): SecretManagerConfig | null {
  const out: SecretManagerConfig = {};
  for (const key of SECRET_MANAGER_KEYS) {
    const value = config[key]?.trim();
    if (value) out[key] = value;
  }
  return Object.keys(out).length > 0 ? out : null;
}

/** Stable string for comparing two configs. */
export function secretManagerKey(config: SecretManagerConfig | null | undefined): string {
  if (!config) return "";
  return JSON.stringify(SECRET_MANAGER_KEYS.map((k) => config[k] ?? null));
}

/** Parses notebook.toml text. Never throws; messages name fields, never values. */
export function parseNotebook(text: string): ParsedNotebook {
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (error) {
    const where = error instanceof TomlError ? ` (line ${error.line}, column ${error.column})` : "";
    return { secretManager: undefined, env: undefined, cells: undefined, errors: [`notebook.toml is not valid TOML${where}`] };
  }
  const errors: string[] = [];
  let secretManager: SecretManagerConfig | null | undefined = null;
  if (doc["secret_manager"] !== undefined) {
    const r = secretManagerSchema.safeParse(doc["secret_manager"]);
    if (r.success) {
      const clean: SecretManagerConfig = {};
      for (const key of SECRET_MANAGER_KEYS) if (r.data[key] !== undefined) clean[key] = r.data[key];
      secretManager = normalizeSecretManager(clean) ?? {};
    } else {
      secretManager = undefined;
      errors.push(describe("[secret_manager]", r.error));
    }
  }
  let env: Map<string, string> | undefined = new Map();
  if (doc["env"] !== undefined) {
    const r = envSchema.safeParse(doc["env"]);
    if (r.success) env = new Map(Object.entries(r.data));
    else {
      env = undefined;
      errors.push(describe("[env]", r.error));
    }
  }
  let cells: CellConfig[] | undefined = [];
  if (doc["cells"] !== undefined) {
    const r = z.array(cellSchema).safeParse(doc["cells"]);
    if (r.success) {
      cells = r.data.map((c) => {
        const cell: CellConfig = { id: c.id, env: new Map(Object.entries(c.env ?? {})) };
        if (c.file !== undefined) cell.file = c.file;
        if (c.language !== undefined) cell.language = c.language;
        if (c.order !== undefined) cell.order = c.order;
        return cell;
      });
    } else {
      cells = undefined;
      errors.push(describe("[[cells]]", r.error));
    }
  }
  return { secretManager, env, cells, errors };
}
