/** Shorter values are not masked: they would blank whole outputs. */
export const MIN_SECRET_LENGTH = 4;

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

/**
 * Every form of a secret value masked in output: the value, each line of a multi-line
 * value, base64 at the three alignments, base64url, URL-encoded, JSON-escaped.
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
  forms.add(encodeURIComponent(value));
  forms.add(JSON.stringify(value).slice(1, -1));
  return [...forms].filter((f) => f.length >= MIN_SECRET_LENGTH);
}
