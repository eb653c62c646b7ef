/**
 * Aho–Corasick automaton over UTF-16 code units, built once per secret set, so that the
 * cost per character of output does not grow with the number of secrets.
 *
 * Layout: characters are mapped to small classes (0 = appears in no pattern). Nodes with
 * several children get a dense row in `#dense`; nodes with one child (most of a long
 * secret's path) store it in `#oneClass/#oneNext`. Failure links make it a full matcher.
 */
export class AhoCorasick {
  readonly maxLength: number;
  readonly #cls = new Uint16Array(65536);
  readonly #classes: number;
  readonly #depth: Int32Array;
  readonly #fail: Int32Array;
  /** Length of the longest pattern ending at this node (following output links), 0 if none. */
  readonly #out: Int32Array;
  readonly #oneClass: Int32Array;
  readonly #oneNext: Int32Array;
  /** Row index into #dense, or -1. */
  readonly #row: Int32Array;
  readonly #dense: Int32Array;

  constructor(patterns: readonly string[]) {
    let classes = 1;
    let total = 1;
    let maxLength = 0;
    for (const p of patterns) {
      total += p.length;
      if (p.length > maxLength) maxLength = p.length;
      for (let i = 0; i < p.length; i++) {
        const c = p.charCodeAt(i);
        if (this.#cls[c] === 0) this.#cls[c] = classes++;
      }
    }
    this.#classes = classes;
    this.maxLength = maxLength;
    // Build the trie with Map children first; then freeze into typed arrays.
    const children: Map<number, number>[] = [new Map()];
    const depth = [0];
    const out = [0];
    for (const p of patterns) {
      if (p.length === 0) continue;
      let node = 0;
      for (let i = 0; i < p.length; i++) {
        const c = this.#cls[p.charCodeAt(i)]!;
        let next = children[node]!.get(c);
        if (next === undefined) {
          next = children.length;
          children.push(new Map());
          depth.push(i + 1);
          out.push(0);
          children[node]!.set(c, next);
        }
        node = next;
      }
      out[node] = Math.max(out[node]!, p.length);
    }
    const n = children.length;
    void total;
    this.#depth = Int32Array.from(depth);
    this.#fail = new Int32Array(n);
    this.#out = Int32Array.from(out);
    this.#oneClass = new Int32Array(n).fill(-1);
    this.#oneNext = new Int32Array(n).fill(-1);
    this.#row = new Int32Array(n).fill(-1);
    let rows = 0;
    for (let i = 0; i < n; i++) if (i === 0 || children[i]!.size > 1) this.#row[i] = rows++;
    this.#dense = new Int32Array(rows * classes).fill(-1);
    for (let i = 0; i < n; i++) {
      const kids = children[i]!;
      const row = this.#row[i]!;
      if (row >= 0) for (const [c, next] of kids) this.#dense[row * classes + c] = next;
      else if (kids.size === 1) {
        const [c, next] = kids.entries().next().value as [number, number];
        this.#oneClass[i] = c;
        this.#oneNext[i] = next;
      }
    }
    // Breadth-first failure links; `out` inherits the longest match of the failure chain.
    const queue: number[] = [];
    for (const next of children[0]!.values()) {
      this.#fail[next] = 0;
      queue.push(next);
    }
    for (let q = 0; q < queue.length; q++) {
      const node = queue[q]!;
      for (const [c, next] of children[node]!) {
        let f = this.#fail[node]!;
        let target = this.#goto(f, c);
        while (target < 0 && f !== 0) {
          f = this.#fail[f]!;
          target = this.#goto(f, c);
        }
        this.#fail[next] = target >= 0 && target !== next ? target : 0;
        if (this.#out[next] === 0) this.#out[next] = this.#out[this.#fail[next]!]!;
        queue.push(next);
      }
    }
  }

  #goto(node: number, c: number): number {
    const row = this.#row[node]!;
    if (row >= 0) return this.#dense[row * this.#classes + c]!;
    return this.#oneClass[node] === c ? this.#oneNext[node]! : -1;
  }

  /**
   * Scans `text` from `state`; calls `onMatch(start, end)` for the longest pattern ending
   * at each position that ends one. Returns the final state (resume with it).
   */
  scan(text: string, state: number, onMatch: (start: number, end: number) => void): number {
    const cls = this.#cls;
    const row = this.#row;
    const dense = this.#dense;
    const classes = this.#classes;
    const oneClass = this.#oneClass;
    const oneNext = this.#oneNext;
    const fail = this.#fail;
    const out = this.#out;
    let s = state;
    for (let i = 0, len = text.length; i < len; i++) {
      const c = cls[text.charCodeAt(i)]!;
      if (c === 0) {
        s = 0;
        continue;
      }
      for (;;) {
        const r = row[s]!;
        const next = r >= 0 ? dense[r * classes + c]! : oneClass[s] === c ? oneNext[s]! : -1;
        if (next >= 0) {
          s = next;
          break;
        }
        if (s === 0) break;
        s = fail[s]!;
      }
      const m = out[s]!;
      if (m > 0) onMatch(i + 1 - m, i + 1);
    }
    return s;
  }

  /** Characters of the current partial match (how much a streaming caller must hold back). */
  depth(state: number): number {
    return this.#depth[state]!;
  }
}
