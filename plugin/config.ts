import type * as Toml from "smol-toml";
import type { ZodError, ZodObject, z as Zod } from "zod";
import type { ConfigValue, ProviderConfig, SecretManagerConfig, SecretProvider } from "./types.js";

/** `[secret_manager]` in force: the provider and its own keys, validated by its schema. */
export interface SecretManagerSection {
  /** The `provider` value (the registry name). */
  provider: string;
  /** The provider's `name`: the rows' source badge. */
  source: string;
  settings: ProviderConfig;
  /** `refresh_interval` (any provider): re-fetch every this many ms, or null (off). */
  refreshIntervalMs: number | null;
  /** `refresh_interval` as written (kept when the section is written back). */
  refreshInterval?: ConfigValue;
}

/** The shortest `refresh_interval` (a manager polled more often would rate-limit a team). */
export const MIN_REFRESH_INTERVAL_MS = 30_000;

/** "90s", "5m", "1h30m", "2h" or an integer number of seconds -> ms; null when not a duration. */
export function parseDuration(value: ConfigValue): number | null {
  if (typeof value === "number") return Number.isInteger(value) && value > 0 ? value * 1000 : null;
  if (typeof value !== "string") return null;
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(value.trim());
  if (!m || value.trim() === "") {
    return /^\d+$/.test(value.trim()) && Number(value) > 0 ? Number(value) * 1000 : null;
  }
  const ms = ((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 1000;
  return ms > 0 ? ms : null;
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
  secretManager: SecretManagerSection | null | undefined;
  env: Map<string, string> | undefined;
  cells: CellConfig[] | undefined;
  errors: string[];
  /** What was read but ignored (unknown `[[cells]]` keys). */
  warnings: string[];
  /** The text is not TOML at all (possibly a file caught mid-write). */
  syntaxError: boolean;
}

export type NotebookParser = (text: string) => ParsedNotebook;

type Libs = { z: typeof Zod; toml: typeof Toml };
let libs: Promise<Libs> | null = null;

/** zod and smol-toml, imported on first use (at `open()`) so importing the plugin stays cheap. */
export function loadConfigLibs(): Promise<Libs> {
  return (libs ??= Promise.all([import("zod"), import("smol-toml")]).then(([zod, toml]) => ({ z: zod.z, toml })));
}

/**
 * The `provider` of `[secret_manager]`, read without a TOML parser (a hint to let the
 * provider prepare early; the real parse decides).
 */
export function peekProvider(text: string): string | null {
  const table = /^\s*\[\s*secret_manager\s*\][^\n]*\n((?:(?!^\s*\[)[^\n]*\n?)*)/m.exec(text)?.[1] ?? "";
  return /^\s*provider\s*=\s*["']([^"'\n]+)["']/m.exec(table)?.[1]?.trim() ?? null;
}

/** Stable string for comparing two `[secret_manager]` sections. */
export function sectionKey(section: SecretManagerSection | null | undefined): string {
  if (!section) return "";
  return JSON.stringify([section.provider, Object.entries(section.settings).sort(([a], [b]) => (a < b ? -1 : 1)), section.refreshIntervalMs]);
}

/** The `[secret_manager]` table a section is written as: provider first, then its keys in schema order. */
export function sectionEntries(section: SecretManagerSection, schema: ZodObject): [string, ConfigValue][] {
  const order = Object.keys(schema.shape);
  const keys = Object.keys(section.settings).sort((a, b) => order.indexOf(a) - order.indexOf(b));
  const entries: [string, ConfigValue][] = [["provider", section.provider], ...keys.map((k): [string, ConfigValue] => [k, section.settings[k]!])];
  if (section.refreshInterval !== undefined) entries.push(["refresh_interval", section.refreshInterval]);
  return entries;
}

/** Formats zod issues as `[table].field: message`, never echoing an input value. */
function describe(table: string, error: ZodError, expected: readonly string[] = [], input?: Record<string, unknown>): string {
  return error.issues
    .map((issue) => {
      if (issue.code === "unrecognized_keys") {
        return issue.keys.map((k) => `${table}: unknown key '${k}' (expected one of ${expected.join(", ")})`).join("; ");
      }
      const where = [table, ...issue.path.map(String)].join(".");
      const key = issue.path[0];
      if (input && issue.path.length === 1 && typeof key === "string" && !Object.hasOwn(input, key)) return `${where}: is missing`;
      if (issue.code === "invalid_type") return `${where}: must be a ${issue.expected}`;
      if (issue.code === "invalid_value") return `${where}: must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
      return `${where}: is invalid`;
    })
    .join("; ");
}

/**
 * Validates `[secret_manager]` against the registry: trims strings and drops empty ones,
 * requires a known `provider`, then checks the rest with that provider's schema. Returns
 * null for a table with nothing in it. Messages name fields, never values.
 */
export function resolveSection(
  z: typeof Zod,
  providers: ReadonlyMap<string, SecretProvider>,
  raw: unknown,
  where = "[secret_manager]",
  minRefreshMs = MIN_REFRESH_INTERVAL_MS,
): { section: SecretManagerSection | null } | { error: string } {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return { error: `${where}: must be a table` };
  const clean: Record<string, ConfigValue> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value === "string") {
      if (/[\0-\x1f\x7f]/.test(value.trim())) return { error: `${where}.${key}: must not contain line breaks or control characters` };
      if (value.trim() !== "") clean[key] = value.trim();
    } else if ((typeof value === "number" && Number.isInteger(value)) || typeof value === "boolean") clean[key] = value;
    else if (value !== undefined && value !== null) return { error: `${where}.${key}: must be a string, an integer or a boolean` };
  }
  const { provider, refresh_interval: refreshInterval, ...rest } = clean;
  if (provider === undefined) {
    if (Object.keys(rest).length === 0) return { section: null };
    return { error: `${where}.provider is missing: set provider = "${[...providers.keys()][0] ?? "infisical"}".` };
  }
  if (typeof provider !== "string") return { error: `${where}.provider: must be a string` };
  const impl = providers.get(provider);
  if (!impl) return { error: `Unknown secret provider: '${String(provider)}' (known: ${[...providers.keys()].join(", ")})` };
  const schema = impl.configSchema(z);
  const result = schema.safeParse(rest);
  if (!result.success) return { error: describe(where, result.error, ["provider", ...Object.keys(schema.shape), "refresh_interval"], rest) };
  let refreshIntervalMs: number | null = null;
  if (refreshInterval !== undefined) {
    refreshIntervalMs = parseDuration(refreshInterval);
    if (refreshIntervalMs === null) return { error: `${where}.refresh_interval: must be a duration such as "30s", "5m" or "1h"` };
    if (refreshIntervalMs < minRefreshMs) return { error: `${where}.refresh_interval: must be at least ${minRefreshMs / 1000}s` };
  }
  const section: SecretManagerSection = { provider, source: impl.name, settings: Object.freeze(result.data as Record<string, ConfigValue>), refreshIntervalMs };
  if (refreshInterval !== undefined) section.refreshInterval = refreshInterval;
  return { section };
}

/** The section a caller hands to `saveSecretManagerConfig`: unknown keys dropped, then validated. */
export function sectionFromInput(z: typeof Zod, providers: ReadonlyMap<string, SecretProvider>, config: SecretManagerConfig, minRefreshMs = MIN_REFRESH_INTERVAL_MS) {
  const impl = typeof config.provider === "string" ? providers.get(config.provider.trim()) : undefined;
  const known = impl ? new Set(["provider", "refresh_interval", ...Object.keys(impl.configSchema(z).shape)]) : new Set(["provider"]);
  const kept = Object.fromEntries(Object.entries(config).filter(([k]) => known.has(k)));
  return resolveSection(z, providers, kept, "saveSecretManagerConfig", minRefreshMs);
}

/** Loads a parser for notebook.toml that validates `[secret_manager]` against `providers`. */
export async function loadNotebookParser(providers: ReadonlyMap<string, SecretProvider>, minRefreshMs = MIN_REFRESH_INTERVAL_MS): Promise<NotebookParser> {
  const { z, toml } = await loadConfigLibs();
  const env = z.record(z.string(), z.string());
  const cells = z.array(
    z.looseObject({ id: z.string(), file: z.string().optional(), language: z.string().optional(), order: z.number().optional(), env: env.optional() }),
  );
  return (text) => {
    let doc: Record<string, unknown>;
    try {
      doc = toml.parse(text.replace(/^\uFEFF/, "")) as Record<string, unknown>;
    } catch (error) {
      const e = error as { line?: unknown; column?: unknown };
      const at = typeof e.line === "number" ? ` (line ${e.line}, column ${String(e.column)})` : "";
      return { secretManager: undefined, env: undefined, cells: undefined, errors: [`notebook.toml is not valid TOML${at}`], warnings: [], syntaxError: true };
    }
    const out: ParsedNotebook = { secretManager: null, env: new Map(), cells: [], errors: [], warnings: [], syntaxError: false };
    // 1. [secret_manager], against the providers' schemas.
    if (doc["secret_manager"] !== undefined) {
      const r = resolveSection(z, providers, doc["secret_manager"], "[secret_manager]", minRefreshMs);
      if ("error" in r) {
        out.secretManager = undefined;
        out.errors.push(r.error);
      } else out.secretManager = r.section;
    }
    // 2. [env]: strings only.
    if (doc["env"] !== undefined) {
      const r = env.safeParse(doc["env"]);
      if (r.success) out.env = new Map(Object.entries(r.data));
      else {
        out.env = undefined;
        out.errors.push(describe("[env]", r.error));
      }
    }
    // 3. [[cells]], each with an optional env of its own.
    if (doc["cells"] !== undefined) {
      const r = cells.safeParse(doc["cells"]);
      if (r.success) {
        out.cells = r.data.map(toCell);
        for (const c of r.data) {
          const unknown = Object.keys(c).filter((k) => !CELL_KEYS.includes(k));
          if (unknown.length > 0) out.warnings.push(`[[cells]] '${c.id}': ${unknown.map((k) => `'${k}'`).join(", ")} ignored (known keys: ${CELL_KEYS.join(", ")})`);
        }
      } else {
        out.cells = undefined;
        out.errors.push(describe("[[cells]]", r.error));
      }
    }
    return out;
  };
}

const CELL_KEYS = ["id", "file", "language", "order", "env"];

function toCell(c: { id: string; file?: string | undefined; language?: string | undefined; order?: number | undefined; env?: Record<string, string> | undefined }): CellConfig {
  const cell: CellConfig = { id: c.id, env: new Map(Object.entries(c.env ?? {})) };
  if (c.file !== undefined) cell.file = c.file;
  if (c.language !== undefined) cell.language = c.language;
  if (c.order !== undefined) cell.order = c.order;
  return cell;
}
