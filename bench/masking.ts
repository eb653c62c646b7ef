import { randomBytes } from "node:crypto";
import { secretForms } from "../redaction/encodings.js";
import { createStreamMasker, SecretMasker } from "../redaction/masker.js";
import { stats, type Row } from "./lib.js";

const MB = 1024 * 1024;

/** Log-like output with secrets (and their base64) sprinkled in. */
function output(bytes: number, secrets: string[]): string {
  const words = ["INFO", "request", "user=42", "GET /api/items?page=3", "latency_ms=12", "ok", "status=200", "trace=9f8e7d6c", "cache miss", "payload"];
  const parts: string[] = [];
  let size = 0;
  let i = 0;
  while (size < bytes) {
    const line = i % 97 === 0 ? `leaked ${secrets[i % secrets.length]} and ${Buffer.from(secrets[(i * 7) % secrets.length]!).toString("base64")}\n` : `${words[i % 10]} ${words[(i * 3) % 10]} ${words[(i * 7) % 10]} n=${i}\n`;
    parts.push(line);
    size += line.length;
    i++;
  }
  return parts.join("").slice(0, bytes);
}

function time(fn: () => void, rounds: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = performance.now();
    fn();
    out.push(performance.now() - start);
  }
  return out;
}

/** Masking throughput with 1,000 and 10 secrets against a replace-each-secret loop. */
export async function benchMasking(): Promise<Row[]> {
  const rows: Row[] = [];
  for (const n of [1_000, 10]) {
    const secrets = Array.from({ length: n }, () => randomBytes(18).toString("base64url"));
    const text = output(10 * MB, secrets);
    const buildStart = performance.now();
    const masker = new SecretMasker(secrets);
    const buildMs = performance.now() - buildStart;
    let masked = "";
    const ms = time(() => (masked = masker.mask(text).text), 5);
    if (secrets.some((s) => masked.includes(s))) throw new Error("bench: a secret survived masking");
    const mbps = ms.map((t) => 10 / (t / 1000));

    // Baseline: replace every form of every secret in turn, on a 1 MB slice (per-MB rate).
    const forms = secrets.flatMap((s) => secretForms(s));
    const slice = text.slice(0, MB);
    const baseMs = time(() => {
      let t = slice;
      for (const f of forms) t = t.replaceAll(f, "***");
    }, 3);
    const baseMbps = stats(baseMs.map((t) => 1 / (t / 1000))).median;

    // Streaming, in 64 KB chunks.
    const streamMs = time(() => {
      const m = createStreamMasker(() => masker);
      for (let i = 0; i < text.length; i += 65_536) m.write(text.slice(i, i + 65_536));
      m.flush();
    }, 3);
    const s = stats(mbps);
    rows.push({ group: "masking", name: `baseline: replaceAll of each form, ${n} secrets (${forms.length} forms)`, unit: "MB/s", min: baseMbps, median: baseMbps, p95: baseMbps, max: baseMbps });
    rows.push({
      group: "masking",
      name: `${n} secrets over 10 MB (automaton built in ${buildMs.toFixed(0)} ms)`,
      unit: "MB/s",
      // For throughput, the p95 column is the slow end (5th percentile of speed).
      min: s.min, median: s.median, p95: stats(mbps).min, max: s.max,
      baseline: baseMbps,
      ratio: s.median / baseMbps,
      ...(n === 1_000 ? { target: ">= 100 MB/s, >= 20x the baseline", pass: s.median >= 100 && s.median / baseMbps >= 20 } : {}),
    });
    const st = stats(streamMs.map((t) => 10 / (t / 1000)));
    rows.push({ group: "masking", name: `${n} secrets, streaming in 64 KB chunks`, unit: "MB/s", ...st });
  }
  return rows;
}
