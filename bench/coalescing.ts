import { writeFile } from "node:fs/promises";
import { benchSession, notebook, until, type Row } from "./lib.js";

const PROJECT = "bench-coalesce";

const count = (group: string, name: string, n: number, target: string, pass: boolean, note?: string): Row => ({
  group, name, unit: "count", min: n, median: n, p95: n, max: n, target, pass, ...(note ? { note } : {}),
});

/** Concurrent refreshes, sequential refreshes and bursts of saves, counted by the server. */
export async function benchCoalescing(): Promise<Row[]> {
  let fetched = 0;
  const session = await benchSession(PROJECT, { dev: { "/": { A: "1" }, "/b": { B: "2" } } }, {
    onEvent: (e) => {
      if (e.type === "secrets-fetched" || e.type === "fetch-failed") fetched++;
    },
  });
  const { server, plugin } = session;
  const rows: Row[] = [];

  server.faults.latencyMs = 20;
  let lists = server.lists();
  await Promise.all(Array.from({ length: 100 }, () => plugin.refresh()));
  rows.push(count("coalescing", "100 concurrent refresh() -> list requests", server.lists() - lists, "1", server.lists() - lists === 1));
  server.faults.latencyMs = 0;

  const logins = server.logins();
  for (let i = 0; i < 1_000; i++) await plugin.refresh();
  rows.push(count("coalescing", "1,000 sequential refresh() -> logins", server.logins() - logins, "1 per token lifetime", server.logins() - logins === 0, "the token from open() is still valid"));

  lists = server.lists();
  const before = fetched;
  const start = Date.now();
  for (let i = 0; i < 100; i++) {
    // The burst ends on "/b" (not the starting path): a watcher that saw nothing cannot
    // pass for perfect coalescing.
    await writeFile(session.file, notebook(i % 2 === 1 ? "/b" : "/", PROJECT, `I = "${i}"`));
    const next = start + ((i + 1) * 1000) / 100;
    while (Date.now() < next) await new Promise((r) => setTimeout(r, 1));
  }
  // The last save's values: path "/b" (B) and I = "99" reach the next cell.
  const cell = { id: "bench" };
  const landed = () => {
    plugin.beforeCellRun(cell);
    const ok = session.env["B"] === "2" && session.env["A"] === undefined && session.env["I"] === "99";
    plugin.afterCellRun(cell);
    return ok;
  };
  await until(() => !plugin.status().fetching && landed(), 10_000).catch(() => undefined);
  const n = server.lists() - lists;
  rows.push(count("coalescing", "100 saves of [secret_manager] in 1 s -> list requests", n, "1..50, the last save's values landed", n >= 1 && n <= 50 && landed(), `fetch events: ${fetched - before}`));

  await session.close();
  return rows;
}
