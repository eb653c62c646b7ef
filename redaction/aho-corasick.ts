/**
 * Aho–Corasick automaton over UTF-16 code units, built once per secret set, so that the
 * cost per character of output does not grow with the number of secrets.
 *
 * Characters map to small classes (0 = in no pattern, which always leads back to the
 * root). Nodes with several children (the root among them) get a dense row whose missing
 * entries are already resolved through the failure links, so they are never followed
 * from there; a node with one child (most of a long secret's path) stores it inline.
 */
export class AhoCorasick {
  readonly maxLength: number;
  readonly #cls = new Uint16Array(65536);
  readonly #depth: Int32Array;
  readonly #fail: Int32Array;
  /** Length of the longest pattern ending at this node (through the failure chain), 0 if none. */
  readonly #out: Int32Array;
  readonly #oneClass: Int32Array;
  readonly #oneNext: Int32Array;
  /** Offset of the node's dense row in #dense, or -1. */
  readonly #row: Int32Array;
  readonly #dense: Int32Array;

  constructor(patterns: readonly string[]) {
    let classes = 1;
    let capacity = 1;
    let maxLength = 0;
    for (const p of patterns) {
      capacity += p.length;
      if (p.length > maxLength) maxLength = p.length;
      for (let i = 0; i < p.length; i++) {
        const c = p.charCodeAt(i);
        if (this.#cls[c] === 0) this.#cls[c] = classes++;
      }
    }
    this.maxLength = maxLength;

    // Trie as first-child / next-sibling lists in typed arrays (no object per node).
    const firstChild = new Int32Array(capacity).fill(-1);
    const sibling = new Int32Array(capacity).fill(-1);
    const label = new Int32Array(capacity);
    const depth = new Int32Array(capacity);
    const out = new Int32Array(capacity);
    const childCount = new Int32Array(capacity);
    let nodes = 1;
    for (const p of patterns) {
      let node = 0;
      for (let i = 0; i < p.length; i++) {
        const c = this.#cls[p.charCodeAt(i)]!;
        let child = firstChild[node]!;
        while (child >= 0 && label[child] !== c) child = sibling[child]!;
        if (child < 0) {
          child = nodes++;
          label[child] = c;
          depth[child] = i + 1;
          sibling[child] = firstChild[node]!;
          firstChild[node] = child;
          childCount[node]!++;
        }
        node = child;
      }
      if (p.length > out[node]!) out[node] = p.length;
    }

    this.#depth = depth.slice(0, nodes);
    this.#fail = new Int32Array(nodes);
    this.#out = out.slice(0, nodes);
    this.#oneClass = new Int32Array(nodes).fill(-1);
    this.#oneNext = new Int32Array(nodes).fill(-1);
    this.#row = new Int32Array(nodes).fill(-1);
    let rows = 0;
    for (let i = 0; i < nodes; i++) {
      if (i === 0 || childCount[i]! > 1) this.#row[i] = classes * rows++;
      else if (childCount[i] === 1) {
        this.#oneClass[i] = label[firstChild[i]!]!;
        this.#oneNext[i] = firstChild[i]!;
      }
    }
    this.#dense = new Int32Array(rows * classes);

    // Breadth-first: failure links, inherited outputs, and dense rows resolved through
    // the failure link (a node's failure target is shallower, so its row is complete).
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
      for (let child = firstChild[node]!; child >= 0; child = sibling[child]!) {
        const c = label[child]!;
        if (row >= 0) this.#dense[row + c] = child;
        this.#fail[child] = node === 0 ? 0 : this.#step(this.#fail[node]!, c);
        if (this.#out[child] === 0) this.#out[child] = this.#out[this.#fail[child]!]!;
        queue[tail++] = child;
      }
    }
  }

  /** The full transition from `node` on class `c`, following failure links. */
  #step(node: number, c: number): number {
    let n = node;
    for (;;) {
      const row = this.#row[n]!;
      if (row >= 0) return this.#dense[row + c]!;
      if (this.#oneClass[n] === c) return this.#oneNext[n]!;
      n = this.#fail[n]!;
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
        if (r >= 0) {
          s = dense[r + c]!;
          break;
        }
        if (oneClass[s] === c) {
          s = oneNext[s]!;
          break;
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
}
