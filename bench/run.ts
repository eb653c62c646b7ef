// `npm run bench`: every benchmark against the bundled server on 127.0.0.1, one table,
// and the same figures as JSON in .bench-results/.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { packageRoot } from "../kernel/paths.js";
import { benchCellCost } from "./cell-cost.js";
import { benchCoalescing } from "./coalescing.js";
import { benchImportCost } from "./import-cost.js";
import { fmt, type Row } from "./lib.js";
import { benchMasking } from "./masking.js";
import { benchSaveToReady } from "./save-ready.js";
import { benchSoak } from "./soak.js";

const only = process.argv.slice(2);
const suites: [string, () => Promise<Row[]>][] = [
  ["save", () => benchSaveToReady()],
  ["cells", () => benchCellCost()],
  ["coalescing", () => benchCoalescing()],
  ["masking", () => benchMasking()],
  ["soak", () => benchSoak()],
  ["import", () => benchImportCost()],
];

const started = performance.now();
const rows: Row[] = [];
for (const [name, suite] of suites) {
  if (only.length > 0 && !only.includes(name)) continue;
  process.stderr.write(`running ${name}...\n`);
  rows.push(...(await suite()));
}

const header = ["benchmark", "unit", "min", "median", "p95", "max", "ratio", "target", ""];
const table = rows.map((r) => [
  `${r.group}: ${r.name}`,
  r.unit,
  fmt(r.min, r.unit),
  fmt(r.median, r.unit),
  fmt(r.p95, r.unit),
  fmt(r.max, r.unit),
  r.ratio === undefined ? "" : `${r.ratio.toFixed(r.ratio >= 100 ? 0 : 1)}x`,
  r.target ?? "",
  r.pass === undefined ? "" : r.pass ? "met" : "MISSED",
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
const line = (cells: string[]) => cells.map((c, i) => (i >= 2 && i <= 6 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd();
console.log(line(header));
console.log(widths.map((w) => "-".repeat(w)).join("  "));
for (const row of table) console.log(line(row));
for (const r of rows.filter((x) => x.note)) console.log(`  note (${r.group}: ${r.name}): ${r.note}`);
const dir = join(packageRoot(), ".bench-results");
await mkdir(dir, { recursive: true });
const file = join(dir, `bench-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
await writeFile(file, `${JSON.stringify({ node: process.version, cpus: (await import("node:os")).cpus().length, seconds: (performance.now() - started) / 1000, rows }, null, 2)}\n`);
console.log(`\nwrote ${file} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
