// A realistic, seeded output corpus for the masking benchmarks: log lines, JSON documents,
// tables and base64 blobs (wrapped and not), with secrets planted in their encoded forms.
import { inspect } from "node:util";

/** A small seeded PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** `n` secret values of 16-64 characters (tokens: letters, digits, - and _). */
export function secrets(n: number, seed = 1): string[] {
  const rand = prng(seed);
  const pick = (s: string) => s[Math.floor(rand() * s.length)]!;
  return Array.from({ length: n }, (_, i) => {
    const length = 16 + Math.floor(rand() * 49);
    const prefix = ["sk-", "ghp_", "xoxb-", "AKIA", ""][i % 5]!;
    let v = prefix;
    while (v.length < length) v += rand() < 0.08 ? pick("-_") : pick(ALNUM);
    return v;
  });
}

/** A secret in one of the forms cells print (the masker must catch every one). */
function planted(value: string, form: number): string {
  const bytes = Buffer.from(value);
  switch (form % 6) {
    case 0:
      return value;
    case 1:
      return bytes.toString("base64");
    case 2:
      return encodeURIComponent(value);
    case 3:
      return JSON.stringify(value).slice(1, -1);
    case 4:
      return bytes.toString("hex");
    default:
      return inspect(value).slice(1, -1);
  }
}

export interface Corpus {
  text: string;
  /** The base64-blob lines only (the hardest part for the masker). */
  base64: string;
  /** How many secrets were planted. */
  planted: number;
}

/**
 * About `bytes` characters of output: 40% log lines, 25% JSON documents, 15% tables, 20%
 * base64 blobs (half wrapped at 76 columns); one line in ~50 carries a secret.
 */
export function corpus(bytes: number, values: readonly string[], seed = 7): Corpus {
  const rand = prng(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const word = () => ["request", "user", "items", "cache", "latency", "status", "retry", "worker", "queue", "shard"][int(10)]!;
  const lines: string[] = [];
  const b64: string[] = [];
  let size = 0;
  let count = 0;
  const secret = () => (rand() < 0.02 ? (count++, ` ${planted(values[int(values.length)]!, int(6))}`) : "");
  while (size < bytes) {
    const kind = rand();
    let chunk: string;
    if (kind < 0.4) {
      chunk = `2026-11-29T01:${String(int(60)).padStart(2, "0")}:${String(int(60)).padStart(2, "0")}.${int(1000)}Z INFO ${word()}.${word()} id=${int(1e6)} took=${int(900)}ms status=${[200, 201, 404, 500][int(4)]}${secret()}\n`;
    } else if (kind < 0.65) {
      chunk = `${JSON.stringify({ id: int(1e6), name: `${word()}-${word()}`, tags: [word(), word()], score: rand(), nested: { ok: rand() < 0.5, ref: `${word()}/${int(999)}` } })}${secret()}\n`;
    } else if (kind < 0.8) {
      chunk = `| ${word().padEnd(10)} | ${String(int(1e5)).padStart(8)} | ${rand().toFixed(4)} | ${word().padEnd(8)} |${secret()}\n`;
    } else {
      const blob = Buffer.alloc(57 * (4 + int(12)));
      for (let i = 0; i < blob.length; i++) blob[i] = int(256);
      let text = blob.toString("base64");
      if (rand() < 0.5) text = text.match(/.{1,76}/g)!.join("\n");
      if (rand() < 0.1) {
        count++;
        text = Buffer.concat([blob.subarray(0, 30), Buffer.from(values[int(values.length)]!), blob.subarray(30)]).toString("base64").match(/.{1,76}/g)!.join("\n");
      }
      chunk = `${text}\n`;
      b64.push(chunk);
    }
    lines.push(chunk);
    size += chunk.length;
  }
  return { text: lines.join(""), base64: b64.join(""), planted: count };
}
