/**
 * Finds every occurrence of a set of strings in text, with a cost per character that does
 * not grow with the number of strings: Wu–Manber. A window as long as the shortest pattern
 * slides over the text; a table of 4-character blocks (hashed, any alphabet) says how far it
 * may jump — in ordinary output and in base64, most of the window's length at once — and
 * only where no jump is possible are candidates (by a hash of the whole window) compared with
 * the text. Built in milliseconds for thousands of patterns; its tables are a fixed 384 KB
 * plus ~20 bytes per pattern and the patterns themselves.
 */
export class MultiMatcher {
  /** Length of the longest pattern. */
  readonly maxLength: number;
  /** Window length: the shortest pattern (capped so shifts fit a byte). */
  readonly #m: number;
  readonly #shift = new Uint8Array(SIZE);
  /**
   * Patterns by the hash of their first m characters (the window key): a chained hash table
   * in typed arrays (no object per pattern). `#head[key & #mask]` is the first pattern of a
   * bucket, `#next` links the rest, `#keys` holds each pattern's full key.
   */
  readonly #patterns: string[] = [];
  readonly #head: Int32Array;
  readonly #next: Int32Array;
  readonly #keys: Int32Array;
  readonly #mask: number;
  /** Sorted patterns: "is this text a prefix of some pattern?" by binary search. */
  readonly #sorted: string[];
  /** Code units that occur in some pattern / that start one. */
  readonly #startsPattern = new Uint8Array(65536);
  /** Hashes of every pattern's first 3 code units (a suffix that hits none starts no pattern). */
  readonly #starts3 = new Uint8Array(1 << 16);
  /** Whether some pattern holds a line break (if none, text ending in one holds nothing back). */
  readonly #hasLineBreak: boolean;

  /**
   * `input`: the patterns, repeats allowed (they are dropped here, without hashing whole
   * patterns). `noLineBreaks`: the caller guarantees no pattern holds a "\n" (skips a scan).
   */
  constructor(input: Iterable<string>, options: { noLineBreaks?: boolean } = {}) {
    const all: string[] = [];
    let longest = 0;
    let m = MAX_WINDOW;
    let hasLineBreak = false;
    const scan = options.noLineBreaks !== true;
    for (const p of input) {
      if (p.length < MIN_PATTERN) continue;
      all.push(p);
      if (p.length > longest) longest = p.length;
      if (p.length < m) m = p.length;
      if (scan && !hasLineBreak && p.includes("\n")) hasLineBreak = true;
    }
    this.#hasLineBreak = hasLineBreak;
    this.maxLength = longest;
    this.#m = all.length === 0 ? Infinity : m;
    const shift = this.#shift;
    const startsPattern = this.#startsPattern;
    const starts3 = this.#starts3;
    shift.fill(Math.max(1, m - BLOCK + 1));
    let size = 1024;
    while (size < 2 * all.length) size *= 2;
    const head = (this.#head = new Int32Array(size).fill(-1));
    const next = (this.#next = new Int32Array(all.length));
    const keys = (this.#keys = new Int32Array(all.length));
    const mask = (this.#mask = size - 1);
    const patterns = this.#patterns;
    outer: for (const p of all) {
      const k = windowKey(p, 0, m);
      // Same window key: a repeat can only be in this (short) chain.
      for (let i = head[k & mask]!; i >= 0; i = next[i]!) if (keys[i] === k && patterns[i] === p) continue outer;
      const index = patterns.length;
      patterns.push(p);
      keys[index] = k;
      next[index] = head[k & mask]!;
      head[k & mask] = index;
      for (let j = BLOCK - 1; j < m; j++) {
        const h = block(p, j);
        if (m - 1 - j < shift[h]!) shift[h] = m - 1 - j;
      }
      startsPattern[p.charCodeAt(0)] = 1;
      starts3[start3(p, 0)] = 1;
    }
    this.#sorted = sortPatterns(patterns.slice());
  }

  /** Bytes held: the fixed tables and the patterns (UTF-16). */
  get bytes(): number {
    return this.#shift.byteLength + this.#head.byteLength + this.#next.byteLength + this.#keys.byteLength + this.#starts3.byteLength + this.#startsPattern.byteLength + this.#sorted.reduce((n, p) => n + 2 * p.length + 64, 0) + 8 * this.#patterns.length;
  }

  /** Calls `onMatch(start, end)` for every occurrence inside [from, to) (in no particular order within a position). */
  find(text: string, from: number, to: number, onMatch: (start: number, end: number) => void): void {
    const m = this.#m;
    const shift = this.#shift;
    const head = this.#head;
    const next = this.#next;
    const keys = this.#keys;
    const patterns = this.#patterns;
    const mask = this.#mask;
    for (let pos = from + m - 1; pos < to; ) {
      const s = shift[block(text, pos)]!;
      if (s !== 0) {
        pos += s;
        continue;
      }
      const start = pos - m + 1;
      const key = windowKey(text, start, m);
      for (let i = head[key & mask]!; i >= 0; i = next[i]!) {
        if (keys[i] !== key) continue;
        const p = patterns[i]!;
        if (start + p.length <= to && text.startsWith(p, start)) onMatch(start, start + p.length);
      }
      pos++;
    }
  }

  /**
   * Where the longest suffix of `text` that is the beginning of some pattern starts (the next
   * chunk may complete it), or `text.length` when there is none. Line-oriented output ends
   * in a character no pattern holds, and costs one lookup.
   */
  holdFrom(text: string): number {
    const n = text.length;
    if (n === 0 || (text.charCodeAt(n - 1) === 10 && !this.#hasLineBreak)) return n;
    for (let j = Math.max(0, n - this.maxLength + 1); j < n; j++) {
      if (!this.#startsPattern[text.charCodeAt(j)] || (j + 3 <= n && !this.#starts3[start3(text, j)])) continue;
      const suffix = text.slice(j);
      const sorted = this.#sorted;
      let lo = 0;
      let hi = sorted.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (sorted[mid]! < suffix) lo = mid + 1;
        else hi = mid;
      }
      if (lo < sorted.length && sorted[lo]!.startsWith(suffix)) return j;
    }
    return n;
  }
}

/**
 * The patterns (no repeats) in code-unit order, as `Array.prototype.sort()` gives them, in a
 * fraction of its time for thousands of long patterns that share prefixes (`%E4%B8…`,
 * `\\u4e…`): grouped by three code units at a time (an exact number: each unit + 1, 0 past
 * the end, so a pattern sorts before its extensions), group keys sorted natively, groups
 * refined the same way from the next three units, small groups sorted as strings.
 */
export function sortPatterns(patterns: string[]): string[] {
  const out: string[] = [];
  sortFrom(patterns, 0, out);
  return out;
}

function sortFrom(patterns: string[], at: number, out: string[]): void {
  if (patterns.length <= 16) {
    for (const p of patterns.sort()) out.push(p);
    return;
  }
  const groups = new Map<number, string[]>();
  for (const p of patterns) {
    const key = (unit(p, at) * 131072 + unit(p, at + 1)) * 131072 + unit(p, at + 2);
    const group = groups.get(key);
    if (group) group.push(p);
    else groups.set(key, [p]);
  }
  const keys = Float64Array.from(groups.keys()).sort();
  for (const key of keys) {
    const group = groups.get(key)!;
    if (group.length === 1) out.push(group[0]!);
    else sortFrom(group, at + 3, out);
  }
}

/** The code unit at `i` plus one, or 0 past the end. */
function unit(p: string, i: number): number {
  return i < p.length ? p.charCodeAt(i) + 1 : 0;
}

/** Patterns shorter than this are not searched (the masker never asks for them). */
const MIN_PATTERN = 4;
/** Windows longer than this would not let shifts fit in a byte. */
const MAX_WINDOW = 200;
const BLOCK = 4;
const BITS = 18;
const SIZE = 1 << BITS;

/** Hash of the 4-character block ending at `end`, for any code units. */
function block(s: string, end: number): number {
  const h = (((s.charCodeAt(end - 3) * 31 + s.charCodeAt(end - 2)) * 31 + s.charCodeAt(end - 1)) * 31 + s.charCodeAt(end)) | 0;
  return Math.imul(h, 0x9e3779b1) >>> (32 - BITS);
}

/** A 16-bit hash of the 3 code units from `at`. */
function start3(s: string, at: number): number {
  return Math.imul((s.charCodeAt(at) * 31 + s.charCodeAt(at + 1)) * 31 + s.charCodeAt(at + 2), 0x9e3779b1) >>> 16;
}

/** A hash of the window s[at, at + m): a small integer (a fast Map key). */
function windowKey(s: string, at: number, m: number): number {
  let h = 0;
  for (let i = at; i < at + m; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return Math.imul(h, 0x85ebca6b) >>> 2;
}
