import { inspect } from "node:util";

/** Shorter values are not masked: they would blank whole outputs. */
export const MIN_SECRET_LENGTH = 4;

/** Columns at which base64 is wrapped: MIME and `base64` (76), PEM (64). */
export const BASE64_WRAP_WIDTHS = [76, 64] as const;

/**
 * The base64 characters that depend only on the value's bytes when they start at byte offset
 * `align` (0, 1, 2) of the encoded stream: the secret's base64 inside any larger blob.
 * `padded` holds two zero bytes, then the value's bytes (`length` of them).
 */
function base64Aligned(padded: Buffer, length: number, align: number, encoding: "base64" | "base64url"): string {
  const first = Math.ceil((8 * align) / 6);
  const last = Math.floor((8 * (align + length)) / 6);
  return padded.subarray(2 - align).toString(encoding).slice(first, last);
}

/** Non-ASCII characters as `\uXXXX` (Python's `json.dumps`, Java's escapers), both cases. */
function unicodeEscaped(jsonInner: string): string[] {
  if (!/[\u0080-\uffff]/.test(jsonInner)) return [];
  // Written as bytes (every output character is ASCII): one flat string each, no pieces.
  const n = jsonInner.length;
  const lower = Buffer.allocUnsafe(6 * n);
  const upper = Buffer.allocUnsafe(6 * n);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const c = jsonInner.charCodeAt(i);
    if (c < 0x80) {
      lower[at] = c;
      upper[at++] = c;
      continue;
    }
    lower[at] = upper[at] = 0x5c; // backslash
    lower[at + 1] = upper[at + 1] = 0x75; // u
    for (let k = 0; k < 4; k++) {
      const d = (c >> (12 - 4 * k)) & 0xf;
      lower[at + 2 + k] = HEX_DIGITS[d]!;
      upper[at + 2 + k] = HEX_DIGITS_UPPER[d]!;
    }
    at += 6;
  }
  let up = upper.toString("latin1", 0, at);
  // JSON's own escapes of control characters, upper-cased too.
  if (jsonInner.includes("\\u")) up = up.replace(/\\u([0-9a-f]{4})/g, (_m, h: string) => `\\u${h.toUpperCase()}`);
  return [lower.toString("latin1", 0, at), up];
}

const HEX_DIGITS = Buffer.from("0123456789abcdef", "latin1");
const HEX_DIGITS_UPPER = Buffer.from("0123456789ABCDEF", "latin1");

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const HEX_UPPER = HEX.map((h) => h.toUpperCase());

/**
 * Every form of a secret value masked in output: the value, each line of a multi-line
 * value, base64 (three alignments, and whole with padding), base64url, hex (both cases),
 * URL-encoded (`encodeURIComponent`, `encodeURI`, `URLSearchParams`), JSON-escaped, with
 * `\uXXXX` escapes, and as `util.inspect`/`console.log` quote it. Base64 wrapped at 76 or
 * 64 columns is matched by the masker itself, across its line breaks.
 */
export function secretForms(value: string): string[] {
  const forms: string[] = [];
  addSecretForms(value, forms);
  return [...new Set(forms)];
}

/** `secretForms(value)` pushed to `sink`, possibly with repeats (a masker dedupes them all at once). */
export function addSecretForms(value: string, sink: string[]): void {
  if (value.length < MIN_SECRET_LENGTH) return;
  const add = (f: string) => void (f.length >= MIN_SECRET_LENGTH && sink.push(f));
  add(value);
  if (/[\r\n]/.test(value)) for (const line of value.split(/\r?\n/)) add(line.trim());
  // One buffer: two zero bytes (for the shifted alignments), then the value's UTF-8.
  const length = Buffer.byteLength(value, "utf8");
  const padded = Buffer.allocUnsafe(2 + length);
  padded[0] = 0;
  padded[1] = 0;
  padded.write(value, 2, "utf8");
  for (let align = 0; align < 3; align++) {
    add(base64Aligned(padded, length, align, "base64"));
    add(base64Aligned(padded, length, align, "base64url"));
  }
  // The whole value encoded on its own, padding included (`base64 <<< "$SECRET"`).
  const bytes = padded.subarray(2);
  add(bytes.toString("base64"));
  add(bytes.toString("base64url"));
  const hex = bytes.toString("hex");
  add(hex);
  add(hex.toUpperCase());
  for (const f of urlForms(value)) add(f);
  const json = JSON.stringify(value).slice(1, -1);
  add(json);
  for (const f of unicodeEscaped(json)) add(f);
  // util.inspect (console.log of a string in an object) escapes only these; otherwise its
  // quoted text is the value itself.
  if (INSPECT_ESCAPES.test(value)) add(inspect(value).slice(1, -1));
}

/** What util.inspect escapes in a string (Node's own pattern, lib/internal/util/inspect.js). */
const INSPECT_ESCAPES = /[\x00-\x1f\x27\x5c\x7f-\x9f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, "g");

/**
 * `encodeURIComponent`, `encodeURI` and `URLSearchParams` forms. The last two are derived
 * from the first (computing each costs more than the whole rest for long Unicode values):
 * encodeURI keeps `;,/?:@&=+$#`, URLSearchParams writes a space as `+` and escapes `!'()~`.
 * A lone surrogate (which encodeURIComponent refuses) is U+FFFD, as URLSearchParams writes it.
 */
function urlForms(value: string): string[] {
  const wellFormed = LONE_SURROGATE.test(value) ? value.replace(LONE_SURROGATES, "\ufffd") : value;
  const component = encodeURIComponent(wellFormed);
  const out = [component];
  if (/[;,/?:@&=+$#]/.test(wellFormed)) out.push(encodeURI(wellFormed));
  if (/[ !'()~]/.test(wellFormed)) out.push(component.replace(/%20|[!'()~]/g, (c) => (c === "%20" ? "+" : `%${HEX_UPPER[c.charCodeAt(0)]}`)));
  return out;
}
