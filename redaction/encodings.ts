import { inspect } from "node:util";

/** Shorter values are not masked: they would blank whole outputs. */
export const MIN_SECRET_LENGTH = 4;

/** Columns at which base64 is wrapped: MIME and `base64` (76), PEM (64). */
export const BASE64_WRAP_WIDTHS = [76, 64] as const;

/**
 * The base64 characters that depend only on `bytes` when they start at byte offset
 * `align` (0, 1, 2) of the encoded stream: the secret's base64 inside any larger blob.
 */
function base64Aligned(bytes: Buffer, align: number): string {
  const padded = Buffer.concat([Buffer.alloc(align), bytes]);
  const encoded = padded.toString("base64").replace(/=+$/, "");
  const first = Math.ceil((8 * align) / 6);
  const last = Math.floor((8 * (align + bytes.length)) / 6);
  return encoded.slice(first, last);
}

/** Non-ASCII characters as `\uXXXX` (Python's `json.dumps`, Java's escapers), both cases. */
function unicodeEscaped(jsonInner: string): string[] {
  if (!/[\u0080-\uffff]/.test(jsonInner)) return [];
  let lower = "";
  let upper = "";
  for (let i = 0; i < jsonInner.length; i++) {
    const c = jsonInner.charCodeAt(i);
    if (c < 0x80) {
      lower += jsonInner[i];
      upper += jsonInner[i];
    } else {
      lower += `\\u${HEX[c >> 8]}${HEX[c & 0xff]}`;
      upper += `\\u${HEX_UPPER[c >> 8]}${HEX_UPPER[c & 0xff]}`;
    }
  }
  // JSON's own escapes of control characters, upper-cased too.
  if (jsonInner.includes("\\u")) upper = upper.replace(/\\u([0-9a-f]{4})/g, (_m, h: string) => `\\u${h.toUpperCase()}`);
  return [lower, upper];
}

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
  if (value.length < MIN_SECRET_LENGTH) return [];
  const forms = new Set<string>([value]);
  if (/[\r\n]/.test(value)) for (const line of value.split(/\r?\n/)) forms.add(line.trim());
  const bytes = Buffer.from(value, "utf8");
  for (let align = 0; align < 3; align++) {
    const b64 = base64Aligned(bytes, align);
    forms.add(b64);
    forms.add(b64.replace(/\+/g, "-").replace(/\//g, "_"));
  }
  // The whole value encoded on its own, padding included (`base64 <<< "$SECRET"`).
  forms.add(bytes.toString("base64"));
  forms.add(bytes.toString("base64url"));
  const hex = bytes.toString("hex");
  forms.add(hex);
  forms.add(hex.toUpperCase());
  forms.add(encodeURIComponent(value));
  forms.add(encodeURI(value));
  forms.add(new URLSearchParams({ v: value }).toString().slice(2));
  const json = JSON.stringify(value).slice(1, -1);
  forms.add(json);
  for (const f of unicodeEscaped(json)) forms.add(f);
  forms.add(inspect(value).slice(1, -1));
  return [...forms].filter((f) => f.length >= MIN_SECRET_LENGTH);
}
