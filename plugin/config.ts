import type * as Toml from "smol-toml";
import type * as Zod from "zod";
import type { SecretManagerConfig } from "./types.js";

/** The keys `[secret_manager]` may hold, in the order they are written. */
export const SECRET_MANAGER_KEYS = ["provider", "project_id", "environment", "path", "base_url"] as const;

function schemas(z: typeof Zod.z) {
  const env = z.record(z.string(), z.string());
  return {
    secretManager: z.strictObject({
      provider: z.string().optional(),
      project_id: z.string().optional(),
      environment: z.string().optional(),
      path: z.string().optional(),
      base_url: z.string().optional(),
    }),
    env,
    cells: z.array(
      z.looseObject({
        id: z.string(),
        file: z.string().optional(),
        language: z.string().optional(),
        order: z.number().optional(),
        env: env.optional(),
      }),
    ),
  };
}

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
  /** The text is not TOML at all (possibly a file caught mid-write). */
  syntaxError: boolean;
}

export type NotebookParser = (text: string) => ParsedNotebook;

/** Formats zod issues as `[table].field: message`, never echoing an input value. */
function describe(table: string, error: Zod.ZodError): string {
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

let loading: Promise<NotebookParser> | null = null;

/**
 * Loads the notebook.toml parser. zod and smol-toml are imported here, on first use
 * (at `open()`), so that importing the plugin stays cheap.
 */
export function loadNotebookParser(): Promise<NotebookParser> {
  return (loading ??= Promise.all([import("zod"), import("smol-toml")]).then(([zod, toml]) => {
    const s = schemas(zod.z);
    return (text: string) => parseWith(s, toml, text);
  }));
}

/** Parses notebook.toml text. Never throws; messages name fields, never values. */
function parseWith(s: ReturnType<typeof schemas>, toml: typeof Toml, text: string): ParsedNotebook {
  let doc: Record<string, unknown>;
  try {
    doc = toml.parse(text) as Record<string, unknown>;
  } catch (error) {
    const e = error as { line?: unknown; column?: unknown };
    const where = typeof e.line === "number" ? ` (line ${e.line}, column ${String(e.column)})` : "";
    return { secretManager: undefined, env: undefined, cells: undefined, errors: [`notebook.toml is not valid TOML${where}`], syntaxError: true };
  }
  const errors: string[] = [];
  let secretManager: SecretManagerConfig | null | undefined = null;
  if (doc["secret_manager"] !== undefined) {
    const r = s.secretManager.safeParse(doc["secret_manager"]);
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
    const r = s.env.safeParse(doc["env"]);
    if (r.success) env = new Map(Object.entries(r.data));
    else {
      env = undefined;
      errors.push(describe("[env]", r.error));
    }
  }
  let cells: CellConfig[] | undefined = [];
  if (doc["cells"] !== undefined) {
    const r = s.cells.safeParse(doc["cells"]);
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
  return { secretManager, env, cells, errors, syntaxError: false };
}
