import { AhoCorasick } from "./aho-corasick.js";
import { secretForms } from "./encodings.js";

export const MASK = "***";

/** Streaming masker: `write` returns what is safe to emit now, `flush` the held-back rest. */
export interface OutputMasker {
  write(chunk: string): string;
  flush(): string;
}

/** Masks every known form of a set of secret values in text. */
export class SecretMasker {
  readonly #ac: AhoCorasick | null;

  constructor(values: Iterable<string>) {
    const forms = new Set<string>();
    for (const v of values) for (const f of secretForms(v)) forms.add(f);
    this.#ac = forms.size > 0 ? new AhoCorasick([...forms]) : null;
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
    const state = ac.scan(text, 0, (start, end) => {
      // Matches arrive by end position; a longer one may swallow several earlier ranges.
      let s = start;
      let e = end;
      while (ranges.length > 0 && s <= ranges[ranges.length - 1]!) {
        s = Math.min(s, ranges[ranges.length - 2]!);
        e = Math.max(e, ranges[ranges.length - 1]!);
        ranges.length -= 2;
      }
      ranges.push(s, e);
    });
    let cut = text.length;
    if (hold) {
      cut = text.length - ac.depth(state);
      // A match that ends past the cut is held whole, so it is found again next time.
      for (let i = 0; i < ranges.length; i += 2) if (ranges[i + 1]! > cut && ranges[i]! < cut) cut = ranges[i]!;
    }
    if (ranges.length === 0) return { text: text.slice(0, cut), held: text.length - cut };
    let out = "";
    let pos = 0;
    for (let i = 0; i < ranges.length; i += 2) {
      const start = ranges[i]!;
      const end = ranges[i + 1]!;
      if (start >= cut) break;
      out += text.slice(pos, start) + MASK;
      pos = end;
    }
    if (pos < cut) out += text.slice(pos, cut);
    return { text: out, held: text.length - cut };
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
