/**
 * Aho–Corasick automaton over UTF-16 code units, built once per secret set, so that the
 * cost per character of output does not grow with the number of secrets.
 *
 * Alphabet compression: each code unit that occurs in a pattern gets a small class (in code
 * unit order); every other one is class 0, which always leads back to the root. The trie is
 * built from the sorted patterns by their common prefixes (no child lookups), its edges kept
 * sorted per node. Nodes with many children (the root first) get a dense row, resolved
 * through the failure links, as long as those rows fit a memory budget whatever the
 * alphabet; the others keep their sorted edges and follow failure links.
 */
export class AhoCorasick {
  readonly maxLength: number;
  readonly #cls = new Uint16Array(65536);
  readonly #depth: Int32Array;
  readonly #fail: Int32Array;
  /** Length of the longest pattern ending at this node (through the failure chain), 0 if none. */
  readonly #out: Int32Array;
  /** Offset of the node's dense row in #dense, or -1. */
  readonly #row: Int32Array;
  readonly #first: Int32Array;
  readonly #count: Int32Array;
  readonly #label: Int32Array;
  readonly #next: Int32Array;
  readonly #dense: Int32Array;

  /** Dense rows may take at most this many bytes (the rest of the automaton is linear in its size). */
  static readonly DENSE_BUDGET = 16 * 1024 * 1024;

  constructor(input: readonly string[]) {
    const patterns = [...new Set(input)].filter((p) => p.length > 0).sort();
    // 1. Classes in code-unit order, so edges created in sorted order are sorted by class.
    const seen = new Uint8Array(65536);
    let capacity = 1;
    let maxLength = 0;
    for (const p of patterns) {
      capacity += p.length;
      if (p.length > maxLength) maxLength = p.length;
      for (let i = 0; i < p.length; i++) seen[p.charCodeAt(i)] = 1;
    }
    let classes = 1;
    for (let c = 0; c < 65536; c++) if (seen[c]) this.#cls[c] = classes++;
    this.maxLength = maxLength;

    // 2. The trie from sorted patterns: each one shares its prefix with the one before.
    const depth = new Int32Array(capacity);
    const out = new Int32Array(capacity);
    const parentOf = new Int32Array(capacity);
    const labelOf = new Int32Array(capacity);
    const path = new Int32Array(maxLength + 1);
    let nodes = 1;
    let prev = "";
    for (const p of patterns) {
      let lcp = 0;
      while (lcp < prev.length && lcp < p.length && prev.charCodeAt(lcp) === p.charCodeAt(lcp)) lcp++;
      for (let i = lcp; i < p.length; i++) {
        const child = nodes++;
        parentOf[child] = path[i]!;
        labelOf[child] = this.#cls[p.charCodeAt(i)]!;
        depth[child] = i + 1;
        path[i + 1] = child;
      }
      out[path[p.length]!] = p.length;
      prev = p;
    }

    // 3. Edges grouped per parent (counting sort keeps each parent's children in label order).
    this.#first = new Int32Array(nodes);
    this.#count = new Int32Array(nodes);
    for (let n = 1; n < nodes; n++) this.#count[parentOf[n]!]!++;
    for (let n = 1, offset = this.#count[0]!; n < nodes; n++) {
      this.#first[n] = offset;
      offset += this.#count[n]!;
    }
    this.#label = new Int32Array(Math.max(nodes - 1, 0));
    this.#next = new Int32Array(Math.max(nodes - 1, 0));
    const fill = this.#first.slice();
    for (let n = 1; n < nodes; n++) {
      const at = fill[parentOf[n]!]!++;
      this.#label[at] = labelOf[n]!;
      this.#next[at] = n;
    }

    // 4. Dense rows: the root, then the nodes with the most children, within the budget.
    this.#row = new Int32Array(nodes).fill(-1);
    const maxRows = Math.max(1, Math.floor(AhoCorasick.DENSE_BUDGET / (4 * classes)));
    const candidates: number[] = [];
    for (let n = 1; n < nodes; n++) if (this.#count[n]! >= 2) candidates.push(n);
    if (candidates.length > maxRows - 1) candidates.sort((a, b) => this.#count[b]! - this.#count[a]!).length = maxRows - 1;
    let rows = 0;
    this.#row[0] = classes * rows++;
    for (const n of candidates) this.#row[n] = classes * rows++;
    this.#dense = new Int32Array(rows * classes);

    // 5. Breadth-first: failure links, inherited outputs, dense rows resolved through the
    //    failure link (a node's failure target is shallower, so its row is complete).
    this.#depth = depth.slice(0, nodes);
    this.#out = out.slice(0, nodes);
    this.#fail = new Int32Array(nodes);
    const queue = new Int32Array(nodes);
    let head = 0;
    let tail = 0;
    queue[tail++] = 0;
    while (head < tail) {
      const node = queue[head++]!;
      const row = this.#row[node]!;
      if (row > 0) {
        const f = this.#fail[node]!;
        for (let c = 1; c < classes; c++) this.#dense[row + c] = this.#step(f, c);
      }
      for (let e = this.#first[node]!, end = e + this.#count[node]!; e < end; e++) {
        const c = this.#label[e]!;
        const child = this.#next[e]!;
        if (row >= 0) this.#dense[row + c] = child;
        this.#fail[child] = node === 0 ? 0 : this.#step(this.#fail[node]!, c);
        if (this.#out[child] === 0) this.#out[child] = this.#out[this.#fail[child]!]!;
        queue[tail++] = child;
      }
    }
  }

  /** The child of `node` on class `c`, or -1. */
  #child(node: number, c: number): number {
    let lo = this.#first[node]!;
    let hi = lo + this.#count[node]! - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const l = this.#label[mid]!;
      if (l === c) return this.#next[mid]!;
      if (l < c) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** The full transition from `node` on class `c`, following failure links. */
  #step(node: number, c: number): number {
    for (let n = node; ; n = this.#fail[n]!) {
      const row = this.#row[n]!;
      if (row >= 0) return this.#dense[row + c]!;
      const child = this.#child(n, c);
      if (child >= 0) return child;
    }
  }

  /**
   * Scans `text` from `state`; calls `onMatch(start, end)` for the longest pattern ending
   * at each position that ends one. Returns the final state (resume with it).
   */
  scan(text: string, state: number, onMatch: (start: number, end: number) => void): number {
    const cls = this.#cls;
    const row = this.#row;
    const dense = this.#dense;
    const first = this.#first;
    const count = this.#count;
    const label = this.#label;
    const next = this.#next;
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
        if (r >= 0) {
          s = dense[r + c]!;
          break;
        }
        const k = first[s]!;
        const n = count[s]!;
        if (n === 1) {
          if (label[k] === c) {
            s = next[k]!;
            break;
          }
        } else if (n > 1) {
          const child = this.#child(s, c);
          if (child >= 0) {
            s = child;
            break;
          }
        }
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

  /** Bytes held by the automaton's arrays. */
  get bytes(): number {
    return [this.#cls, this.#depth, this.#fail, this.#out, this.#row, this.#first, this.#count, this.#label, this.#next, this.#dense].reduce((n, a) => n + a.byteLength, 0);
  }
}
