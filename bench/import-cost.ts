import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { startInfisicalServer } from "../fixtures/infisical-server/index.js";
import { packageRoot } from "../kernel/paths.js";
import { stats, type Row } from "./lib.js";

/** Wall time of a fresh `node` that imports the built entry, minus one that imports nothing. */
export async function benchImportCost(): Promise<Row[]> {
  const entry = join(packageRoot(), "dist", "plugin", "index.js");
  if (!existsSync(entry)) throw new Error("bench: run `npm run build` first (npm ci does it)");
  const script = (body: string) => `const t=performance.now();${body};process.stdout.write(String(performance.now()-t))`;
  const run = (body: string) => Number(execFileSync(process.execPath, ["--input-type=module", "-e", script(body)], { encoding: "utf8" }));
  const nothing: number[] = [];
  const plugin: number[] = [];
  for (let i = 0; i < 12; i++) {
    nothing.push(run("await 0"));
    plugin.push(run(`await import(${JSON.stringify(pathToFileURL(entry).href)})`));
  }
  const n = stats(nothing.slice(2));
  const p = stats(plugin.slice(2));

  // First Infisical fetch (worker start + SDK load) against a warm second fetch.
  const server = await startInfisicalServer({ projects: [{ id: "p", secrets: { dev: { "/": { A: "1" } } } }], identities: [{ clientId: "c", clientSecret: "s" }] });
  const { createInfisicalProvider } = (await import(pathToFileURL(join(packageRoot(), "dist", "plugin", "providers", "infisical.js")).href)) as typeof import("../plugin/providers/infisical.js");
  const firsts: number[] = [];
  const seconds: number[] = [];
  for (let i = 0; i < 3; i++) {
    const provider = createInfisicalProvider();
    const ctx = { signal: new AbortController().signal, timeoutMs: 20_000, credentials: { INFISICAL_HOST: server.url, INFISICAL_CLIENT_ID: "c", INFISICAL_CLIENT_SECRET: "s" } };
    let t = performance.now();
    const r = await provider.fetch({ project_id: "p" }, ctx);
    if (r.error) throw new Error(r.error);
    firsts.push(performance.now() - t);
    t = performance.now();
    await provider.fetch({ project_id: "p" }, ctx);
    seconds.push(performance.now() - t);
    await provider.close?.();
  }
  await server.close();
  return [
    { group: "import", name: "node importing nothing (baseline)", unit: "ms", ...n },
    { group: "import", name: "importing the plugin entry (dist), extra over baseline", unit: "ms", min: p.min, median: p.median, p95: p.p95, max: p.max, baseline: n.median, target: "<= 50 ms", pass: p.median <= 50, note: "measured inside the process: import() time only" },
    { group: "import", name: "first Infisical fetch (worker + SDK load + login + list)", unit: "ms", ...stats(firsts) },
    { group: "import", name: "second fetch (token reused)", unit: "ms", ...stats(seconds) },
  ];
}
