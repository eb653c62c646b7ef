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

interface Edit {
  start: number;
  end: number;
  text: string;
}

function applyEdits(text: string, edits: Edit[]): string {
  let out = text;
  for (const e of [...edits].sort((a, b) => b.start - a.start)) out = out.slice(0, e.start) + e.text + out.slice(e.end);
  return out;
}

/**
 * Replaces the top-level table `name` in TOML `text` with `entries` (in the given order),
 * keeping every byte outside that table. The table may be a `[name]` section, an inline
 * `name = { ... }` or dotted `name.key = ...` lines at the top; each is rewritten in its own
 * form. `entries` null removes the table. Throws when `text` is not valid TOML.
 */
export function replaceTable(text: string, name: string, entries: [string, TomlScalar][] | null): string {
  if (sameTable((parse(text) as Record<string, unknown>)[name], entries)) return text;
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  const ast = parseTOML(text);
  const top = ast.body[0];
  const sections: TOMLTable[] = [];
  const rootKvs: TOMLKeyValue[] = [];
  for (const node of top.body) {
    if (node.type === "TOMLTable") {
      if (node.kind === "standard" && node.resolvedKey.length === 1 && node.resolvedKey[0] === name) sections.push(node);
    } else if (keyPath(node)[0] === name) {
      rootKvs.push(node);
    }
  }
  const kvLine = ([k, v]: [string, TomlScalar]) => `${tomlKey(k)} = ${tomlValue(v)}`;
  const section = sections[0];
  if (section) {
    const start = section.range[0];
    const end = lineEnd(text, section.range[1]);
    const body = entries === null ? "" : [`[${tomlKey(name)}]`, ...entries.map(kvLine)].join(eol);
    if (entries !== null) return applyEdits(text, [{ start, end, text: body }]);
    // Removing: take the whole lines, including the line break after the table.
    let cut = end;
    if (text.startsWith("\r\n", cut)) cut += 2;
    else if (text[cut] === "\n") cut += 1;
    return applyEdits(text, [{ start: lineStart(text, start), end: cut, text: "" }]);
  }
  if (rootKvs.length > 0) {
    const first = rootKvs[0]!;
    const isInline = rootKvs.length === 1 && keyPath(first).length === 1;
    let replacement = "";
    if (entries !== null && entries.length > 0) {
      replacement = isInline
        ? `${tomlKey(name)} = { ${entries.map(kvLine).join(", ")} }`
        : entries.map(([k, v]) => `${tomlKey(name)}.${kvLine([k, v])}`).join(eol);
    } else if (entries !== null) {
      replacement = `${tomlKey(name)} = {}`;
    }
    const edits: Edit[] = rootKvs.map((kv, i) => {
      const start = lineStart(text, kv.range[0]);
      let end = lineEnd(text, kv.range[1]);
      if (i > 0 || replacement === "") {
        if (text.startsWith("\r\n", end)) end += 2;
        else if (text[end] === "\n") end += 1;
      }
      return { start, end, text: i === 0 ? replacement : "" };
    });
    return applyEdits(text, edits);
  }
  if (entries === null || entries.length === 0) return text;
  const block = [`[${tomlKey(name)}]`, ...entries.map(kvLine)].join(eol) + eol;
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
