import { MASKED } from "../plugin/index.js";
import { benchSession, type Row } from "./lib.js";

const PROJECT = "bench-soak";

function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

const resources = () => process.getActiveResourcesInfo().filter((r) => r !== "TTYWrap").length;

/** 10,000 cycles of a cell run and masked output, with 1,000 saves (500 of them fetch). */
export async function benchSoak(cycles = 10_000): Promise<Row[]> {
  const session = await benchSession(PROJECT, { dev: { "/": { A_KEY: "a-secret-value", B: "b" }, "/x": { C_TOKEN: "c-secret-value" } } });
  const { server, plugin } = session;
  // Warm up, then measure.
  for (let i = 0; i < 200; i++) await plugin.saveEnv({ LOG_LEVEL: `w${i}` });
  const heapBefore = heapAfterGc();
  const resBefore = resources();
  const start = performance.now();
  // Each cycle runs a cell and masks its output; every 10th also saves notebook.toml (a save
  // keeps a ~25 ms window for late writes into the replaced file, so saving on every cycle
  // would measure that window), alternating [secret_manager] (a fetch) and [env].
  for (let i = 0; i < cycles; i++) {
    if (i % 20 === 0) {
      await plugin.saveSecretManagerConfig({ provider: "infisical", project_id: PROJECT, environment: "dev", path: i % 40 === 0 ? "/x" : "/" });
    } else if (i % 10 === 0) {
      const env = plugin.maskedEnv();
      await plugin.saveEnv({ ...env, LOG_LEVEL: `l${i}`, ...(env["A_KEY"] ? { A_KEY: MASKED } : {}) });
    }
    plugin.beforeCellRun({ id: "c" });
    plugin.afterCellRun({ id: "c" });
    plugin.maskOutput(`cycle ${i} a-secret-value`);
  }
  const seconds = (performance.now() - start) / 1000;
  // Let the last save's trailing re-read timer and idle sockets settle (at most 2 s).
  const settle = Date.now() + 2_000;
  while (resources() > resBefore && Date.now() < settle) await new Promise((r) => setTimeout(r, 20));
  const heapAfter = heapAfterGc();
  const resAfter = resources();
  const resList = process.getActiveResourcesInfo().join(", ");
  const lists = server.lists();
  await session.close();
  const growthMb = (heapAfter - heapBefore) / (1024 * 1024);
  const one = (name: string, unit: string, v: number, extra: Partial<Row> = {}): Row => ({ group: "soak", name, unit, min: v, median: v, p95: v, max: v, ...extra });
  return [
    one(`heap growth over ${cycles.toLocaleString("en")} cycles, ${(cycles / 10).toLocaleString("en")} saves (after GC)`, "MB", growthMb, { target: "< 10 MB", pass: growthMb < 10, note: `${(heapBefore / 1048576).toFixed(1)} -> ${(heapAfter / 1048576).toFixed(1)} MB, ${lists} list requests, ${seconds.toFixed(1)} s` }),
    one("active handles before -> after", "count", resAfter - resBefore, { target: "constant", pass: resAfter <= resBefore, note: `${resBefore} -> ${resAfter} (${resList})` }),
  ];
}
