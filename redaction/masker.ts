import { addSecretForms, BASE64_WRAP_WIDTHS } from "./encodings.js";
import { MultiMatcher } from "./matcher.js";

export const MASK = "***";

/** Streaming masker: `write` returns what is safe to emit now, `flush` the held-back rest. */
export interface OutputMasker {
  write(chunk: string): string;
  flush(): string;
}

/** A whole line of base64 at a wrap width (76 or 64), from `lastIndex`. */
const FULL_LINE = /[A-Za-z0-9+/]{64}(?:[A-Za-z0-9+/]{12})?/y;
/** A (last) line of base64, possibly short, possibly padded. */
const ANY_LINE = /[A-Za-z0-9+/]+={0,2}/y;

/** Whether text[start, end) is exactly a base64 line of `width` (0: any length, padding allowed). */
function isBase64Line(text: string, start: number, end: number, width: number): boolean {
  if (end <= start || (width > 0 && end - start !== width)) return false;
  const re = width > 0 ? FULL_LINE : ANY_LINE;
  re.lastIndex = start;
  return re.test(text) && re.lastIndex === end;
}

/** Ranges as a flat list of [start, end) pairs, sorted and merged in place. */
function merge(ranges: number[]): void {
  const pairs: [number, number][] = [];
  for (let i = 0; i < ranges.length; i += 2) pairs.push([ranges[i]!, ranges[i + 1]!]);
  pairs.sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  ranges.length = 0;
  for (const [s, e] of pairs) {
    if (ranges.length > 0 && s <= ranges[ranges.length - 1]!) ranges[ranges.length - 1] = Math.max(ranges[ranges.length - 1]!, e);
    else ranges.push(s, e);
  }
}

/**
 * Masks every known form of a set of secret values in text (`secretForms`). Base64 wrapped
 * at 76 or 64 columns is matched across its line breaks: runs of full-width base64 lines are
 * searched as one string and matches mapped back to the lines.
 */
export class SecretMasker {
  readonly #matcher: MultiMatcher;
  /** Characters a secret's base64 can span, line breaks included (for wrapped blocks). */
  readonly #wrapHold: number;
  /** Forms of values added since the matcher was built, searched naively (see `bridge`). */
  readonly #extra: readonly string[];
  /** Each value's forms: the next build (`previous`) reuses them; a rotation changes a few values. */
  readonly #formsByValue: ReadonlyMap<string, readonly string[]>;

  /** Matchers built so far in this process (a test checks none is built on the print path). */
  static builds = 0;

  /**
   * Builds the matcher of `values`' forms. `previous`: a masker whose values' forms are reused
   * (only values it did not have are encoded).
   */
  constructor(values: Iterable<string>, options: { previous?: SecretMasker; bridge?: { matcher: MultiMatcher; extra: readonly string[] } } = {}) {
    if (options.bridge) {
      this.#matcher = options.bridge.matcher;
      this.#extra = options.bridge.extra;
      this.#formsByValue = options.previous ? options.previous.#formsByValue : new Map();
    } else {
      const known = options.previous ? options.previous.#formsByValue : undefined;
      const byValue = new Map<string, readonly string[]>();
      for (const v of values) if (!byValue.has(v)) byValue.set(v, known?.get(v) ?? formsOfValue(v));
      this.#formsByValue = byValue;
      // Repeats across values (a value that is its own JSON form…) are dropped by the matcher.
      const forms: string[] = [];
      for (const own of byValue.values()) for (const f of own) forms.push(f);
      this.#matcher = new MultiMatcher(forms, { noLineBreaks: true });
      this.#extra = [];
      SecretMasker.builds++;
    }
    const longest = Math.max(this.#matcher.maxLength, ...this.#extra.map((f) => f.length));
    this.#wrapHold = longest + 2 * Math.ceil(longest / Math.min(...BASE64_WRAP_WIDTHS)) + 2;
  }

  /**
   * A masker for `base`'s values plus `added` ones, without building anything: the added
   * values' forms are searched one by one. For the moments between a change of the secret
   * set and the new masker being built off the print path: it never masks less than before.
   */
  static bridge(base: SecretMasker, added: Iterable<string>): SecretMasker {
    const extra = new Set(base.#extra);
    for (const v of added) for (const f of formsOfValue(v)) extra.add(f);
    return new SecretMasker([], { previous: base, bridge: { matcher: base.#matcher, extra: [...extra] } });
  }

  get empty(): boolean {
    return this.#matcher.maxLength === 0 && this.#extra.length === 0;
  }

  /**
   * Masks `text`. With `hold`, also returns how many trailing characters must be held
   * back because a secret could still be completed by the next chunk.
   */
  mask(text: string, hold = false): { text: string; held: number } {
    const matcher = this.#matcher;
    if (this.empty || text.length === 0) return { text, held: 0 };
    const ranges: number[] = [];
    const add = (start: number, end: number) => void ranges.push(start, end);
    for (const f of this.#extra) for (let i = text.indexOf(f); i >= 0; i = text.indexOf(f, i + 1)) add(i, i + f.length);
    // Ordinary text is searched where it is; each wrapped base64 block once more with its
    // line breaks taken out (matches mapped back to the text).
    let from = 0;
    forEachBase64Block(text, (start, end) => {
      matcher.find(text, from, start, add);
      const block = new JoinedBlock(text, start, end);
      const joined = block.text;
      const addJoined = (s: number, e: number) => add(block.at(s), block.at(e - 1) + 1);
      matcher.find(joined, 0, joined.length, addJoined);
      for (const f of this.#extra) for (let i = joined.indexOf(f); i >= 0; i = joined.indexOf(f, i + 1)) addJoined(i, i + f.length);
      from = end;
    });
    matcher.find(text, from, text.length, add);
    if (ranges.length > 2) merge(ranges);
    let cut = text.length;
    if (hold) {
      cut = Math.min(matcher.holdFrom(text), this.#wrappedTail(text), this.#extraHold(text));
      // A match that ends past the cut is held whole, so it is found again next time.
      for (let i = 0; i < ranges.length; i += 2) if (ranges[i + 1]! > cut && ranges[i]! < cut) cut = ranges[i]!;
    }
    if (ranges.length === 0) return { text: cut === text.length ? text : text.slice(0, cut), held: text.length - cut };
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

  /** Where a suffix that begins one of the extra forms starts, or `text.length`. */
  #extraHold(text: string): number {
    for (let j = Math.max(0, text.length - this.#wrapHold); j < text.length; j++) {
      const suffix = text.slice(j);
      if (this.#extra.some((f) => f.startsWith(suffix))) return j;
    }
    return text.length;
  }

  /**
   * Where to hold back from when the text ends inside wrapped base64 that the next chunk may
   * continue: the full-width base64 lines just before the last (partial) line, as many as a
   * secret's base64 can span. Ordinary text is never held here.
   */
  #wrappedTail(text: string): number {
    const lastNl = text.lastIndexOf("\n");
    const tailStart = lastNl + 1;
    if (tailStart < text.length && !isBase64Line(text, tailStart, text.length, 0)) return text.length;
    let held = tailStart;
    let lines = 0;
    for (let nl = lastNl; nl >= 0 && text.length - held < this.#wrapHold; ) {
      const lineEnd = text[nl - 1] === "\r" ? nl - 1 : nl;
      const lineStart = text.lastIndexOf("\n", lineEnd - 1) + 1;
      if (!BASE64_WRAP_WIDTHS.some((w) => isBase64Line(text, lineStart, lineEnd, w))) break;
      held = lineStart;
      lines++;
      nl = lineStart - 1;
    }
    if (lines > 0) return held;
    // A long base64 line still being written may become a block's first line.
    return text.length - tailStart >= Math.min(...BASE64_WRAP_WIDTHS) ? tailStart : text.length;
  }
}

/** A value's forms, without those that hold a raw line break (its lines are forms too). */
function formsOfValue(value: string): string[] {
  const forms: string[] = [];
  addSecretForms(value, forms);
  // Only the value itself can hold a line break (every encoding escapes it; lines are split).
  return /[\r\n]/.test(value) ? forms.filter((f) => !/[\r\n]/.test(f)) : forms;
}

const LINE_BREAKS = /\r?\n/g;

/**
 * A block of text[start, end) with its line breaks removed, and the way back: `at` maps an
 * index of the joined text to the index of the same character in the text. The map is built
 * on the first match (one pass over the block); most blocks have none.
 */
class JoinedBlock {
  readonly text: string;
  readonly #source: string;
  readonly #start: number;
  readonly #end: number;
  /** Joined index of the first character after each removed break; characters removed up to it. */
  #after: number[] | undefined;
  #removed: number[] = [];

  constructor(source: string, start: number, end: number) {
    const raw = source.slice(start, end);
    this.text = raw.includes("\r") ? raw.replace(LINE_BREAKS, "") : raw.replaceAll("\n", "");
    this.#source = source;
    this.#start = start;
    this.#end = end;
  }

  at(j: number): number {
    if (this.#after === undefined) {
      this.#after = [];
      let removed = 0;
      for (let i = this.#start; i < this.#end; i++) {
        const c = this.#source.charCodeAt(i);
        if (c !== 10 && c !== 13) continue;
        removed++;
        const next = this.#source.charCodeAt(i + 1);
        if (next !== 10 && next !== 13) {
          this.#after.push(i + 1 - this.#start - removed);
          this.#removed.push(removed);
        }
      }
    }
    const after = this.#after;
    let lo = 0;
    let hi = after.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (after[mid]! <= j) lo = mid + 1;
      else hi = mid;
    }
    return this.#start + j + (lo === 0 ? 0 : this.#removed[lo - 1]!);
  }
}

/**
 * Calls `onBlock(start, end)` for each block of wrapped base64: a run of lines of one wrap
 * width (76 or 64 characters), with the line before when it is no longer (a block may start
 * mid-line: a chunk boundary, a prefix) and the shorter line after; [start, end) runs from
 * the first line's start to the last line's end. Only lengths are compared (joining lines
 * that are not base64 cannot create a match that is not there), so ordinary text costs one
 * scan for "\n".
 */
function forEachBase64Block(text: string, onBlock: (start: number, end: number) => void): void {
  let prevStart = -1;
  let prevEnd = -1;
  let blockStart = -1;
  let blockEnd = -1;
  let lines = 0;
  let width = 0;
  const close = () => {
    if (lines > 1) onBlock(blockStart, blockEnd);
    lines = 0;
  };
  for (let start = 0; start < text.length; ) {
    const nl = text.indexOf("\n", start);
    if (nl < 0 && lines === 0) break;
    const lineEnd = nl < 0 ? text.length : nl;
    const end = text.charCodeAt(lineEnd - 1) === 13 ? lineEnd - 1 : lineEnd;
    const length = end - start;
    if (lines > 0) {
      if (length === width) {
        blockEnd = end;
        lines++;
      } else {
        if (length > 0 && length < width) {
          blockEnd = end;
          lines++;
        }
        close();
      }
    } else if (length === 76 || length === 64) {
      width = length;
      const withPrev = prevEnd > prevStart && prevEnd - prevStart < length;
      blockStart = withPrev ? prevStart : start;
      blockEnd = end;
      lines = withPrev ? 2 : 1;
    }
    prevStart = start;
    prevEnd = end;
    if (nl < 0) break;
    start = nl + 1;
  }
  close();
}

/**
 * A streaming masker over a masker that may be replaced as secrets change: it never
 * emits a prefix of a secret at a chunk boundary; `flush()` releases what it held.
 */
export function createStreamMasker(current: () => SecretMasker): OutputMasker {
  let pending = "";
  return {
    write(chunk: string): string {
      // Joined, not concatenated: a concatenation is a rope to V8, and reading a rope char by
      // char is much slower than the flat string that Array#join builds.
      const text = pending === "" ? chunk : [pending, chunk].join("");
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
