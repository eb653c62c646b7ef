import { AhoCorasick } from "./aho-corasick.js";
import { BASE64_WRAP_WIDTHS, secretForms } from "./encodings.js";

export const MASK = "***";

/** Streaming masker: `write` returns what is safe to emit now, `flush` the held-back rest. */
export interface OutputMasker {
  write(chunk: string): string;
  flush(): string;
}

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Adds [start, end) to sorted, merged ranges (a flat list of pairs). */
function addRange(ranges: number[], start: number, end: number): void {
  // Matches mostly arrive in order; a longer one may swallow several earlier ranges.
  let s = start;
  let e = end;
  while (ranges.length > 0 && s <= ranges[ranges.length - 1]!) {
    s = Math.min(s, ranges[ranges.length - 2]!);
    e = Math.max(e, ranges[ranges.length - 1]!);
    ranges.length -= 2;
  }
  ranges.push(s, e);
}

/** Masks every known form of a set of secret values in text. */
export class SecretMasker {
  readonly #ac: AhoCorasick | null;
  /** Characters a secret's base64 can span, line breaks included (for wrapped blocks). */
  readonly #wrapHold: number;

  constructor(values: Iterable<string>) {
    const forms = new Set<string>();
    for (const v of values) for (const f of secretForms(v)) forms.add(f);
    this.#ac = forms.size > 0 ? new AhoCorasick([...forms]) : null;
    const longest = this.#ac?.maxLength ?? 0;
    this.#wrapHold = longest + 2 * Math.ceil(longest / Math.min(...BASE64_WRAP_WIDTHS)) + 2;
  }

  get empty(): boolean {
    return this.#ac === null;
  }

  /**
   * Masks `text`. With `hold`, also returns how many trailing characters must be held
   * back because a secret could still be completed by the next chunk.
   */
  mask(text: string, hold = false): { text: string; held: number } {
    const ac = this.#ac;
    if (!ac || text.length === 0) return { text, held: 0 };
    const ranges: number[] = [];
    const state = ac.scan(text, 0, (start, end) => addRange(ranges, start, end));
    const wrapped = this.#wrappedMatches(text);
    if (wrapped.length > 0) {
      for (let i = 0; i < wrapped.length; i += 2) ranges.push(wrapped[i]!, wrapped[i + 1]!);
      mergeRanges(ranges);
    }
    let cut = text.length;
    if (hold) {
      cut = Math.min(text.length - ac.depth(state), this.#wrappedTail(text));
      // A match that ends past the cut is held whole, so it is found again next time.
      for (let i = 0; i < ranges.length; i += 2) if (ranges[i + 1]! > cut && ranges[i]! < cut) cut = ranges[i]!;
    }
    if (ranges.length === 0) return { text: text.slice(0, cut), held: text.length - cut };
    let out = "";
    let pos = 0;
    for (let i = 0; i < ranges.length; i += 2) {
      const start = ranges[i]!;
      if (start >= cut) break;
      out += text.slice(pos, start) + MASK;
      pos = ranges[i + 1]!;
    }
    if (pos < cut) out += text.slice(pos, cut);
    return { text: out, held: text.length - cut };
  }

  /**
   * Base64 wrapped at 76 or 64 columns (MIME, `base64`, PEM): runs of full-width base64
   * lines and the line after them are joined, scanned, and matches mapped back across the
   * line breaks. Returns ranges in `text`.
   */
  #wrappedMatches(text: string): number[] {
    const found: number[] = [];
    if (text.indexOf("\n") < 0) return found;
    for (const block of base64Blocks(text)) {
      let joined = "";
      const at: number[] = [];
      for (const [start, end] of block) {
        joined += text.slice(start, end);
        for (let i = start; i < end; i++) at.push(i);
      }
      this.#ac!.scan(joined, 0, (s, e) => {
        if (at[e - 1]! - at[s]! + 1 !== e - s) found.push(at[s]!, at[e - 1]! + 1); // spans a line break
      });
    }
    return found;
  }

  /**
   * Where to hold back from when the text ends inside wrapped base64 that the next chunk may
   * continue: the full-width base64 lines just before the last (partial) line, as many as a
   * secret's base64 can span. Ordinary text is never held.
   */
  #wrappedTail(text: string): number {
    const lastNl = text.lastIndexOf("\n");
    const tailStart = lastNl + 1;
    if (!B64.test(text.slice(tailStart))) return text.length;
    let held = tailStart;
    let lines = 0;
    for (let nl = lastNl; nl >= 0 && text.length - held < this.#wrapHold; ) {
      const lineEnd = text[nl - 1] === "\r" ? nl - 1 : nl;
      const lineStart = text.lastIndexOf("\n", lineEnd - 1) + 1;
      const length = lineEnd - lineStart;
      if (!BASE64_WRAP_WIDTHS.includes(length as 76 | 64) || !B64.test(text.slice(lineStart, lineEnd))) break;
      held = lineStart;
      lines++;
      nl = lineStart - 1;
    }
    if (lines > 0) return held;
    // A long base64 line still being written may become a block's first line.
    return text.length - tailStart >= Math.min(...BASE64_WRAP_WIDTHS) ? tailStart : text.length;
  }
}

/** Sorts and merges ranges given as a flat list of pairs, in place. */
function mergeRanges(ranges: number[]): void {
  const pairs: [number, number][] = [];
  for (let i = 0; i < ranges.length; i += 2) pairs.push([ranges[i]!, ranges[i + 1]!]);
  pairs.sort((a, b) => a[0] - b[0]);
  ranges.length = 0;
  for (const [s, e] of pairs) {
    if (ranges.length > 0 && s <= ranges[ranges.length - 1]!) ranges[ranges.length - 1] = Math.max(ranges[ranges.length - 1]!, e);
    else ranges.push(s, e);
  }
}

/**
 * Blocks of wrapped base64: consecutive base64 lines whose inner lines all have one width
 * (76 or 64 characters), the first and last no longer than it (a block may start or end
 * mid-line: a chunk boundary, a prefix). Each block is a list of [start, end) line ranges,
 * without the line breaks.
 */
function* base64Blocks(text: string): Generator<[number, number][]> {
  const lines: [number, number][] = [];
  for (let start = 0; start <= text.length; ) {
    const nl = text.indexOf("\n", start);
    const lineEnd = nl < 0 ? text.length : nl;
    const end = text[lineEnd - 1] === "\r" ? lineEnd - 1 : lineEnd;
    lines.push([start, end]);
    if (nl < 0) break;
    start = nl + 1;
  }
  const isB64 = (i: number) => {
    const [s, e] = lines[i]!;
    return e > s && B64.test(text.slice(s, e));
  };
  const width = (i: number) => lines[i]![1] - lines[i]![0];
  for (let i = 0; i + 1 < lines.length; ) {
    // A block needs a full-width line right after its first one (or as its first one).
    const w = BASE64_WRAP_WIDTHS.find((x) => width(i + 1) === x) ?? BASE64_WRAP_WIDTHS.find((x) => width(i) === x);
    if (!w || !isB64(i) || !isB64(i + 1) || width(i) > w || width(i + 1) > w) {
      i++;
      continue;
    }
    let j = i + 1;
    while (width(j) === w && j + 1 < lines.length && isB64(j + 1) && width(j + 1) <= w) j++;
    yield lines.slice(i, j + 1);
    i = j + 1;
  }
}

/**
 * A streaming masker over a masker that may be replaced as secrets change: it never
 * emits a prefix of a secret at a chunk boundary; `flush()` releases what it held.
 */
export function createStreamMasker(current: () => SecretMasker): OutputMasker {
  let pending = "";
  return {
    write(chunk: string): string {
      const text = pending + chunk;
      const { text: out, held } = current().mask(text, true);
      pending = held > 0 ? text.slice(text.length - held) : "";
      return out;
    },
    flush(): string {
      const text = pending;
      pending = "";
      return current().mask(text).text;
    },
  };
}
