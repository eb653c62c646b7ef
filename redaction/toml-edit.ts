import { parse, stringify } from "smol-toml";
import { parseTOML, type AST } from "toml-eslint-parser";
import type { TomlScalar } from "./persist.js";

type TOMLKeyValue = AST.TOMLKeyValue;
type TOMLTable = AST.TOMLTable;

/** A TOML basic string for any value (escapes quotes, backslashes, control characters). */
export function tomlString(value: string): string {
  return stringify({ v: value }).trim().slice("v = ".length);
}

/** A TOML value: strings quoted and escaped, integers and booleans as they are. */
export function tomlValue(value: TomlScalar): string {
  return typeof value === "string" ? tomlString(value) : String(value);
}

const BARE_KEY = /^[A-Za-z0-9_-]+$/;
const tomlKey = (key: string) => (BARE_KEY.test(key) ? key : tomlString(key));

function keyPath(kv: TOMLKeyValue): string[] {
  return kv.key.keys.map((k) => ("name" in k ? k.name : String(k.value)));
}

/** End of the line holding `offset` (before its line break), so a trailing comment goes with it. */
function lineEnd(text: string, offset: number): number {
  const nl = text.indexOf("\n", offset);
  const end = nl === -1 ? text.length : nl;
  return text[end - 1] === "\r" ? end - 1 : end;
}

/** Start of the line holding `offset`. */
function lineStart(text: string, offset: number): number {
  return text.lastIndexOf("\n", offset - 1) + 1;
}

/** Past the line break at `offset` (if any). */
function pastBreak(text: string, offset: number): number {
  if (text.startsWith("\r\n", offset)) return offset + 2;
  return text[offset] === "\n" ? offset + 1 : offset;
}

interface Edit {
  start: number;
  end: number;
  text: string;
}

function applyEdits(text: string, edits: Edit[]): string {
  let out = text;
  for (const e of [...edits].sort((a, b) => b.start - a.start || b.end - a.end)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

/** The whole lines of a key/value (a multi-line string included), with one line break. */
function wholeLines(text: string, kv: TOMLKeyValue): Edit {
  const start = lineStart(text, kv.range[0]);
  const end = lineEnd(text, kv.range[1]);
  const past = pastBreak(text, end);
  // The last line of a file without a final newline takes the break before it instead.
  if (past === end && start > 0) return { start: start - (text[start - 2] === "\r" ? 2 : 1), end, text: "" };
  return { start, end: past, text: "" };
}

/** Where new keys go when no existing key is kept: after a header line, or before a first line. */
type Anchor = { at: number; before: boolean };

/**
 * Edits key by key: a value that changed replaces only its own bytes (a comment on its line
 * stays), a key no longer wanted loses its line, new keys go after the last kept one (or at
 * `anchor`). `existing` holds `[key, kv]` pairs in file order; `line(k, v)` renders a new line.
 */
function editEntries(text: string, eol: string, existing: [string, TOMLKeyValue][], wanted: Map<string, TomlScalar>, current: Record<string, unknown>, anchor: Anchor, line: (k: string, v: TomlScalar) => string): Edit[] {
  const edits: Edit[] = [];
  let lastKept: TOMLKeyValue | null = null;
  for (const [key, kv] of existing) {
    if (!wanted.has(key)) {
      edits.push(wholeLines(text, kv));
      continue;
    }
    lastKept = kv;
    if (current[key] !== wanted.get(key)) edits.push({ start: kv.value.range[0], end: kv.value.range[1], text: tomlValue(wanted.get(key)!) });
  }
  const have = new Set(existing.map(([k]) => k));
  const added = [...wanted].filter(([k]) => !have.has(k)).map(([k, v]) => line(k, v));
  if (added.length === 0) return edits;
  if (lastKept) {
    const at = lineEnd(text, lastKept.range[1]);
    edits.push({ start: at, end: at, text: added.map((l) => eol + l).join("") });
  } else {
    edits.push({ start: anchor.at, end: anchor.at, text: anchor.before ? added.map((l) => l + eol).join("") : added.map((l) => eol + l).join("") });
  }
  return edits;
}

/**
 * Where a removed `[name]` section ends: at the next table header, less the comment lines
 * right above that header (they describe the next table).
 */
function sectionExtent(text: string, section: TOMLTable, next: TOMLTable | undefined): { start: number; end: number } {
  const start = lineStart(text, section.range[0]);
  let end = next ? lineStart(text, next.range[0]) : text.length;
  const previousLine = (at: number) => lineStart(text, Math.max(start, at - 1));
  for (let prev = previousLine(end); prev > start && /^\s*#/.test(text.slice(prev, end)); prev = previousLine(end)) end = prev;
  // Blank lines before the next table stay as its separator, unless one is there already.
  const separated = start === 0 || /(\r?\n){2}$/.test(text.slice(0, start));
  if (next && !separated) for (let prev = previousLine(end); prev > start && text.slice(prev, end).trim() === ""; prev = previousLine(end)) end = prev;
  return { start, end };
}

/**
 * Sets the top-level table `name` of TOML `text` to exactly `entries`, keeping every byte
 * it need not change: outside the table nothing moves, and inside it comments, order and
 * unchanged lines stay. The table may be a `[name]` section, dotted `name.key = ...` lines
 * or an inline `name = { ... }` (rewritten whole: it cannot hold comments). `entries` null
 * removes the table with the comments inside it. Throws when `text` is not valid TOML.
 */
export function replaceTable(text: string, name: string, entries: [string, TomlScalar][] | null): string {
  // A UTF-8 byte order mark is kept, and kept out of the parsers' way.
  if (text.startsWith("\uFEFF")) return `\uFEFF${replaceTable(text.slice(1), name, entries)}`;
  const current = (parse(text) as Record<string, unknown>)[name];
  if (sameTable(current, entries)) return text;
  const table = (current && typeof current === "object" ? current : {}) as Record<string, unknown>;
  const wanted = new Map(entries ?? []);
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  const kvLine = (k: string, v: TomlScalar) => `${tomlKey(k)} = ${tomlValue(v)}`;
  const top = parseTOML(text).body[0];
  const tables = top.body.filter((n): n is TOMLTable => n.type === "TOMLTable");
  const sectionIndex = tables.findIndex((t) => t.kind === "standard" && t.resolvedKey.length === 1 && t.resolvedKey[0] === name);
  const section = tables[sectionIndex];
  if (section) {
    if (entries === null) {
      const { start, end } = sectionExtent(text, section, tables[sectionIndex + 1]);
      return applyEdits(text, [{ start, end, text: "" }]);
    }
    const kvs = section.body.filter((kv) => keyPath(kv).length === 1).map((kv): [string, TOMLKeyValue] => [keyPath(kv)[0]!, kv]);
    const header = lineEnd(text, section.range[0]);
    return applyEdits(text, editEntries(text, eol, kvs, wanted, table, { at: header, before: false }, kvLine));
  }
  const rootKvs = top.body.filter((n): n is TOMLKeyValue => n.type === "TOMLKeyValue" && keyPath(n)[0] === name);
  const first = rootKvs[0];
  if (first && rootKvs.length === 1 && keyPath(first).length === 1) {
    // Inline table: rewritten whole (existing keys in their order, new ones after).
    const edit = wholeLines(text, first);
    if (entries === null) return applyEdits(text, [edit]);
    const ordered = [...Object.keys(table).filter((k) => wanted.has(k)), ...[...wanted.keys()].filter((k) => !(k in table))];
    const inline = `${tomlKey(name)} = { ${ordered.map((k) => kvLine(k, wanted.get(k)!)).join(", ")} }`;
    return applyEdits(text, [{ start: first.range[0], end: first.range[1], text: wanted.size > 0 ? inline : `${tomlKey(name)} = {}` }]);
  }
  if (rootKvs.length > 0) {
    // Dotted keys at the top: edited line by line like a section.
    if (entries === null) return applyEdits(text, rootKvs.map((kv) => wholeLines(text, kv)));
    const kvs = rootKvs.filter((kv) => keyPath(kv).length === 2).map((kv): [string, TOMLKeyValue] => [keyPath(kv)[1]!, kv]);
    const anchor = { at: lineStart(text, rootKvs[0]!.range[0]), before: true };
    return applyEdits(text, editEntries(text, eol, kvs, wanted, table, anchor, (k, v) => `${tomlKey(name)}.${kvLine(k, v)}`));
  }
  if (entries === null || entries.length === 0) return text;
  const block = [`[${tomlKey(name)}]`, ...entries.map(([k, v]) => kvLine(k, v))].join(eol) + eol;
  if (text.length === 0) return block;
  const sep = text.endsWith("\n") ? eol : eol + eol;
  return text + (text.endsWith(eol + eol) || text.endsWith("\n\n") ? "" : sep) + block;
}

/** Whether the table already holds exactly these entries (order aside): then nothing is written. */
function sameTable(current: unknown, entries: [string, TomlScalar][] | null): boolean {
  if (entries === null || entries.length === 0) return current === undefined || (entries !== null && isEmptyTable(current));
  if (!current || typeof current !== "object" || Array.isArray(current)) return false;
  const table = current as Record<string, unknown>;
  if (Object.keys(table).length !== entries.length) return false;
  return entries.every(([k, v]) => Object.hasOwn(table, k) && table[k] === v);
}

function isEmptyTable(value: unknown): boolean {
  return !!value && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 0;
}
