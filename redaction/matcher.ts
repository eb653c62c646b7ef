/**
 * Finds every occurrence of a set of strings in text, with a cost per character that does
 * not grow with the number of strings: Wu–Manber. A window as long as the shortest pattern
 * slides over the text; a table of 4-character blocks (hashed, any alphabet) says how far it
 * may jump — in ordinary output and in base64, most of the window's length at once — and
 * only where no jump is possible are candidates (by a hash of the whole window) compared with
 * the text. Built in a few milliseconds for thousands of patterns; its tables are a fixed
 * 384 KB plus the patterns themselves.
 */
export class MultiMatcher {
  /** Length of the longest pattern. */
  readonly maxLength: number;
  /** Window length: the shortest pattern (capped so shifts fit a byte). */
  readonly #m: number;
  readonly #shift = new Uint8Array(SIZE);
  /** Hash of the first m characters (the window) -> the patterns that start with them. */
  readonly #byPrefix = new Map<number, string[]>();
  /** Whether some pattern's window key has these low bits (skips most Map lookups). */
  readonly #prefixSeen = new Uint8Array(PREFIX_MASK + 1);
  /** Sorted patterns: "is this text a prefix of some pattern?" by binary search. */
  readonly #sorted: string[];
  /** Code units that occur in some pattern / that start one. */
  readonly #startsPattern = new Uint8Array(65536);
  /** Hashes of every pattern's first 3 code units (a suffix that hits none starts no pattern). */
  readonly #starts3 = new Uint8Array(1 << 16);
  /** Whether some pattern holds a line break (if none, text ending in one holds nothing back). */
  readonly #hasLineBreak: boolean;

  /** `input`: the patterns, repeats allowed (they are dropped here, without hashing whole patterns). */
  constructor(input: Iterable<string>) {
    const all: string[] = [];
    let longest = 0;
    let m = MAX_WINDOW;
    let hasLineBreak = false;
    for (const p of input) {
      if (p.length < MIN_PATTERN) continue;
      all.push(p);
      if (p.length > longest) longest = p.length;
      if (p.length < m) m = p.length;
      if (!hasLineBreak && p.includes("\n")) hasLineBreak = true;
    }
    this.#hasLineBreak = hasLineBreak;
    this.maxLength = longest;
    this.#m = all.length === 0 ? Infinity : m;
    const shift = this.#shift;
    const byPrefix = this.#byPrefix;
    const prefixSeen = this.#prefixSeen;
    const startsPattern = this.#startsPattern;
    const starts3 = this.#starts3;
    shift.fill(Math.max(1, m - BLOCK + 1));
    const patterns: string[] = [];
    for (const p of all) {
      // Same window key: a repeat can only be in this (short) list.
      const k = windowKey(p, 0, m);
      const list = byPrefix.get(k);
      if (list) {
        if (list.includes(p)) continue;
        list.push(p);
      } else byPrefix.set(k, [p]);
      patterns.push(p);
      prefixSeen[k & PREFIX_MASK] = 1;
      for (let j = BLOCK - 1; j < m; j++) {
        const h = block(p, j);
        if (m - 1 - j < shift[h]!) shift[h] = m - 1 - j;
      }
      startsPattern[p.charCodeAt(0)] = 1;
      starts3[start3(p, 0)] = 1;
    }
    this.#sorted = sortPatterns(patterns);
  }

  /** Bytes held: the fixed tables and the patterns (UTF-16). */
  get bytes(): number {
    return this.#shift.byteLength + this.#prefixSeen.byteLength + this.#starts3.byteLength + this.#startsPattern.byteLength + this.#sorted.reduce((n, p) => n + 2 * p.length + 64, 0);
  }

  /** Calls `onMatch(start, end)` for every occurrence inside [from, to) (in no particular order within a position). */
  find(text: string, from: number, to: number, onMatch: (start: number, end: number) => void): void {
    const m = this.#m;
    const shift = this.#shift;
    const byPrefix = this.#byPrefix;
    const prefixSeen = this.#prefixSeen;
    for (let pos = from + m - 1; pos < to; ) {
      const s = shift[block(text, pos)]!;
      if (s !== 0) {
        pos += s;
        continue;
      }
      const start = pos - m + 1;
      const key = windowKey(text, start, m);
      const candidates = prefixSeen[key & PREFIX_MASK] === 0 ? undefined : byPrefix.get(key);
      if (candidates) for (const p of candidates) if (start + p.length <= to && text.startsWith(p, start)) onMatch(start, start + p.length);
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
 * The patterns in code-unit order, as `Array.prototype.sort()` gives them, in a fraction of
 * its time for thousands of long patterns: grouped by their first three code units (an exact
 * number), the group keys sorted natively, each (small) group sorted as strings.
 */
function sortPatterns(patterns: string[]): string[] {
  const groups = new Map<number, string[]>();
  for (const p of patterns) {
    const key = (p.charCodeAt(0) * 65536 + p.charCodeAt(1)) * 65536 + p.charCodeAt(2);
    const group = groups.get(key);
    if (group) group.push(p);
    else groups.set(key, [p]);
  }
  const keys = Float64Array.from(groups.keys()).sort();
  const out: string[] = [];
  for (const key of keys) {
    const group = groups.get(key)!;
    if (group.length > 1) group.sort();
    for (const p of group) out.push(p);
  }
  return out;
}

/** Patterns shorter than this are not searched (the masker never asks for them). */
const MIN_PATTERN = 4;
/** Windows longer than this would not let shifts fit in a byte. */
const MAX_WINDOW = 200;
const BLOCK = 4;
const PREFIX_MASK = (1 << 16) - 1;
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
