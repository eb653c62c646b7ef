import { resolve } from "node:path";
import { checkProvider } from "./registry.js";
import type { PluginEvent, SecretManagerPluginOptions, SecretProvider } from "./types.js";

type Env = Record<string, string | undefined>;

/** The plugin's options after `resolveOptions`: copied, defaulted, checked, frozen. */
export interface ResolvedOptions {
  readonly notebookDir: string;
  readonly env: Env;
  readonly credentials: Readonly<Env>;
  readonly scrubCredentials: boolean;
  readonly providers: Readonly<Record<string, SecretProvider>>;
  readonly watch: false | { readonly usePolling: boolean; readonly interval: number; readonly settleMs: number };
  readonly fetchTimeoutMs: number;
  readonly minRefreshIntervalMs: number;
  readonly allowUnsafeNames: readonly string[];
  readonly reassertAfterCell: boolean;
  readonly sensitivePatterns: readonly RegExp[];
  readonly onEvent: ((event: PluginEvent) => void) | null;
}

const NAME = "createSecretManagerPlugin";
const fail = (option: string, what: string): never => {
  throw new TypeError(`${NAME}: \`${option}\` ${what}`);
};
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function bool(option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  return typeof value === "boolean" ? value : fail(option, "must be a boolean");
}

function positive(option: string, value: unknown, fallback: number, min = Number.MIN_VALUE): number {
  if (value === undefined) return fallback;
  return typeof value === "number" && Number.isFinite(value) && value >= min ? value : fail(option, min === 0 ? "must be a number >= 0" : "must be a positive number");
}

function watchOptions(value: SecretManagerPluginOptions["watch"]): ResolvedOptions["watch"] {
  if (value === false) return false;
  if (value !== undefined && value !== true && !isObject(value)) fail("watch", "must be a boolean or { usePolling, interval, settleMs }");
  const w = isObject(value) ? value : {};
  for (const key of Object.keys(w)) if (!["usePolling", "interval", "settleMs"].includes(key)) fail(`watch.${key}`, "is not an option (usePolling, interval, settleMs)");
  return Object.freeze({
    usePolling: bool("watch.usePolling", w["usePolling"], false),
    interval: positive("watch.interval", w["interval"], 100),
    settleMs: positive("watch.settleMs", w["settleMs"], 80, 0),
  });
}

/** Copies, defaults and checks the options up front: a bad one is a TypeError naming it. */
export function resolveOptions(input: SecretManagerPluginOptions): ResolvedOptions {
  if (!isObject(input)) throw new TypeError(`${NAME}: options must be an object with \`notebookDir\``);
  const o = input as SecretManagerPluginOptions;
  if (typeof o.notebookDir !== "string" || o.notebookDir === "") fail("notebookDir", "must be a non-empty string");
  if (o.env !== undefined && typeof o.env !== "object") fail("env", "must be an object (default process.env)");
  if (o.credentials !== undefined && !isObject(o.credentials) && o.credentials !== process.env) fail("credentials", "must be an object (default process.env)");
  if (o.providers !== undefined && !isObject(o.providers)) fail("providers", "must be an object of SecretProvider by name");
  for (const [name, p] of Object.entries(o.providers ?? {})) checkProvider(`providers.${name}`, p);
  const names = o.allowUnsafeNames ?? [];
  if (!Array.isArray(names) || names.some((n) => typeof n !== "string")) fail("allowUnsafeNames", "must be an array of names");
  const patterns = o.sensitivePatterns ?? [];
  if (!Array.isArray(patterns) || patterns.some((p) => !(p instanceof RegExp))) fail("sensitivePatterns", "must be an array of RegExp");
  if (o.onEvent !== undefined && typeof o.onEvent !== "function") fail("onEvent", "must be a function");
  return Object.freeze({
    notebookDir: resolve(o.notebookDir),
    env: o.env ?? (process.env as Env),
    credentials: o.credentials ?? (process.env as Env),
    scrubCredentials: bool("scrubCredentials", o.scrubCredentials, true),
    providers: Object.freeze({ ...o.providers }),
    watch: watchOptions(o.watch),
    fetchTimeoutMs: positive("fetchTimeoutMs", o.fetchTimeoutMs, 20_000),
    minRefreshIntervalMs: positive("minRefreshIntervalMs", o.minRefreshIntervalMs, 30_000),
    allowUnsafeNames: Object.freeze([...names]),
    reassertAfterCell: bool("reassertAfterCell", o.reassertAfterCell, true),
    // Copies: a global RegExp's lastIndex must not depend on the caller's use of it.
    sensitivePatterns: Object.freeze(patterns.map((p) => new RegExp(p.source, p.flags.replace(/[gy]/g, "")))),
    onEvent: o.onEvent ?? null,
  });
}
