// Save of [secret_manager] -> the new values in process.env, against what a user would
// otherwise wire up: c12's watchConfig (debounce off and default) and chokidar's
// awaitWriteFinish, each only up to its "file changed" callback (no fetch at all), and the
// floor: an fs.watch event plus one warm fetch.
import { watch as fsWatch } from "node:fs";
import { writeFile } from "node:fs/promises";
import { watchConfig } from "c12";
import { watch } from "chokidar";
import { benchSession, notebook, stats, until, type Row } from "./lib.js";

const PROJECT = "bench-project";
const G = "save -> ready";

/** Times `iterations` saves of `file`: write, then wait until `seen()` moves past its value before. */
async function timeSaves(file: string, iterations: number, seen: () => number, path: (i: number) => string, warmup = 3): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < iterations + warmup; i++) {
    const before = seen();
    const start = performance.now();
    await writeFile(file, notebook(path(i), PROJECT));
    await until(() => seen() > before);
    if (i >= warmup) out.push(performance.now() - start);
    // Space the saves like a person would (a save within the settle window of the previous
    // one is part of a burst, coalesced on purpose: see the coalescing rows).
    const idle = performance.now() + 150;
    await until(() => performance.now() > idle);
  }
  return out;
}

export async function benchSaveToReady(iterations = 50): Promise<Row[]> {
  const session = await benchSession(PROJECT, { dev: { "/": { A: "root-a", B: "root-b" }, "/app": { A: "app-a", C: "app-c" } } });
  const { plugin, file, dir, env } = session;
  let landed = 0;
  const path = (i: number) => (i % 2 === 0 ? "/app" : "/");
  try {
    // Ours: until a cell run after the save sees the new path's values.
    const cell = { id: "bench" };
    const sees = (want: string | undefined) => {
      plugin.beforeCellRun(cell);
      const ok = env["C"] === want && env["A"] === (want ? "app-a" : "root-a");
      plugin.afterCellRun(cell);
      return ok;
    };
    const ours = await (async () => {
      const out: number[] = [];
      for (let i = 0; i < iterations + 3; i++) {
        const want = path(i) === "/app" ? "app-c" : undefined;
        const start = performance.now();
        await writeFile(file, notebook(path(i), PROJECT));
        await until(() => sees(want));
        landed++;
        if (i >= 3) out.push(performance.now() - start);
        const idle = performance.now() + 150;
        await until(() => performance.now() > idle);
      }
      return out;
    })();
    const refreshes: number[] = [];
    for (let i = 0; i < 30; i++) {
      const r = performance.now();
      await plugin.refresh();
      refreshes.push(performance.now() - r);
      if (plugin.status().fetchError !== null) throw new Error(`bench: refresh failed: ${plugin.status().fetchError}`);
    }
    await plugin.close();

    // Floor: fs.watch on the directory, write -> first event.
    let fsEvents = 0;
    const fsw = fsWatch(dir, () => fsEvents++);
    const fsFloor = await timeSaves(file, 30, () => fsEvents, path);
    fsw.close();

    // c12: watchConfig on notebook.toml, write -> onUpdate (it reloads and parses the file).
    const c12 = async (debounce: false | undefined) => {
      let updates = 0;
      const w = await watchConfig({ cwd: dir, name: "notebook", configFile: "notebook", ...(debounce === false ? { debounce } : {}), onUpdate: () => void updates++ });
      // chokidar may report the watch before it is live: one throwaway save first.
      try {
        return await timeSaves(file, debounce === false ? 30 : 15, () => updates, path);
      } finally {
        await w.unwatch();
      }
    };
    const c12Off = await c12(false);
    const c12Default = await c12(undefined);

    // chokidar's awaitWriteFinish defaults.
    let awfEvents = 0;
    const awfWatcher = watch(file, { awaitWriteFinish: true, ignoreInitial: true });
    await new Promise<void>((r) => awfWatcher.once("ready", () => r()));
    awfWatcher.on("change", () => awfEvents++);
    const awf = await timeSaves(file, 5, () => awfEvents, path, 1);
    await awfWatcher.close();

    const s = stats(ours);
    const off = stats(c12Off);
    const floor = stats(fsFloor).median + stats(refreshes).median;
    return [
      { group: G, name: "floor: fs.watch write -> event", unit: "ms", ...stats(fsFloor) },
      { group: G, name: "floor: a warm fetch (refresh())", unit: "ms", ...stats(refreshes) },
      { group: G, name: "peer: c12 watchConfig, debounce off: write -> onUpdate (no fetch)", unit: "ms", ...off },
      { group: G, name: "peer: c12 watchConfig, default debounce: write -> onUpdate (no fetch)", unit: "ms", ...stats(c12Default) },
      { group: G, name: "peer: chokidar awaitWriteFinish defaults: write -> change (no fetch)", unit: "ms", ...stats(awf) },
      {
        group: G,
        name: `ours: save [secret_manager] -> new values in env (${iterations}x)`,
        unit: "ms",
        ...s,
        baseline: off.median,
        ratio: off.median / s.median,
        target: "p50 <= 8 ms, p95 <= 15 ms",
        pass: s.median <= 8 && s.p95 <= 15 && landed === iterations + 3,
        note: `floor (fs.watch + warm fetch) ${floor.toFixed(1)} ms; the ratio is c12 (debounce off, no fetch) / ours`,
      },
    ];
  } finally {
    await session.close();
  }
}
