import { writeFile } from "node:fs/promises";
import { watch } from "chokidar";
import { benchSession, notebook, stats, until, type Row } from "./lib.js";

const PROJECT = "bench-project";

/** Save of [secret_manager] -> the plugin's secrets-fetched event for that path. */
export async function benchSaveToReady(iterations = 50): Promise<Row[]> {
  let fetches = 0;
  const session = await benchSession(PROJECT, { dev: { "/": { A: "root-a", B: "root-b" }, "/app": { A: "app-a", C: "app-c" } } }, {
    onEvent: (e) => {
      if (e.type === "secrets-fetched") fetches++;
    },
  });
  const { plugin, file } = session;
  const saves: number[] = [];
  const refreshes: number[] = [];
  try {
    for (let i = 0; i < iterations + 5; i++) {
      const before = fetches;
      const start = performance.now();
      await writeFile(file, notebook(i % 2 === 0 ? "/app" : "/", PROJECT));
      await until(() => fetches > before);
      if (i >= 5) saves.push(performance.now() - start);
      const r = performance.now();
      await plugin.refresh();
      if (i >= 5) refreshes.push(performance.now() - r);
      // Space the saves like a person would: a save within ~80 ms of the previous one is
      // part of a burst, which is coalesced on purpose (see the coalescing rows).
      const idle = performance.now() + 150;
      await until(() => performance.now() > idle);
    }
  } finally {
    await plugin.close();
  }

  // Comparison: chokidar's awaitWriteFinish defaults (what a plain watcher would use).
  const awf: number[] = [];
  const watcher = watch(file, { awaitWriteFinish: true, ignoreInitial: true });
  await new Promise<void>((r) => watcher.once("ready", () => r()));
  let events = 0;
  watcher.on("change", () => events++);
  for (let i = 0; i < 10; i++) {
    const before = events;
    const start = performance.now();
    await writeFile(file, notebook(i % 2 === 0 ? "/x" : "/", PROJECT));
    await until(() => events > before);
    awf.push(performance.now() - start);
  }
  await watcher.close();
  await session.close();
  const fetchFloor = stats(refreshes);
  const awfStats = stats(awf);
  const s = stats(saves);
  return [
    { group: "save -> ready", name: "fetch alone (refresh, the floor)", unit: "ms", ...fetchFloor },
    { group: "save -> ready", name: `save [secret_manager] -> secrets-fetched (${iterations}x)`, unit: "ms", ...s, baseline: awfStats.median + fetchFloor.median, ratio: (awfStats.median + fetchFloor.median) / s.median, target: "p50 <= 30 ms, p95 <= 60 ms", pass: s.median <= 30 && s.p95 <= 60 },
    { group: "save -> ready", name: "chokidar awaitWriteFinish defaults: write -> event (10x)", unit: "ms", ...awfStats, note: "comparison: a plain awaitWriteFinish watcher pays this before any fetch" },
  ];
}
