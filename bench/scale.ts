// Many kernels on one machine: N plugin instances in this process, N = 10, 100, 1,000.
// (1) files provider: one Kubernetes-style atomic `..data` swap -> time until every kernel
//     has the new value, requests to any manager, memory per kernel;
// (2) a polling provider (Doppler fixture, refresh_interval): requests per minute vs N.
import { mkdir, mkdtemp, readlink, rename, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startDopplerServer } from "../fixtures/doppler-server/index.js";
import { createSecretManagerPlugin, type SecretManagerPlugin } from "../plugin/index.js";
import { stats, until, type Row } from "./lib.js";

const G = "scale";
const KEYS = 20;

async function swap(dir: string, generation: number): Promise<void> {
  const stamp = `..2026_11_29_00_00_00.${generation}`;
  await mkdir(join(dir, stamp));
  for (let k = 0; k < KEYS; k++) await writeFile(join(dir, stamp, `KEY_${k}`), `value-${k}-gen-${generation}`);
  const previous = await readlink(join(dir, "..data")).catch(() => null);
  await symlink(stamp, join(dir, "..data_tmp"));
  await rename(join(dir, "..data_tmp"), join(dir, "..data"));
  if (!previous) for (let k = 0; k < KEYS; k++) await symlink(join("..data", `KEY_${k}`), join(dir, `KEY_${k}`));
  if (previous) await rm(join(dir, previous), { recursive: true, force: true });
}

function heapMiB(): number {
  globalThis.gc?.();
  globalThis.gc?.();
  return process.memoryUsage().heapUsed / 1048576;
}

async function filesAtScale(n: number, root: string): Promise<Row[]> {
  const vol = join(root, `vol-${n}`);
  const nb = join(root, `nb-${n}`);
  await mkdir(vol);
  await mkdir(nb);
  await swap(vol, 1);
  await writeFile(join(nb, "notebook.toml"), `[secret_manager]\nprovider = "files"\npath = "${vol}"\n`);
  const before = heapMiB();
  const plugins: SecretManagerPlugin[] = [];
  const arrived = new Array<number>(n).fill(0);
  let swappedAt = 0;
  try {
    for (let i = 0; i < n; i++) {
      const p = createSecretManagerPlugin({
        notebookDir: nb,
        env: {},
        watch: false,
        onEvent: (e) => {
          if (e.type === "secrets-fetched" && swappedAt > 0 && e.changed.includes("KEY_0") && arrived[i] === 0) arrived[i] = performance.now() - swappedAt;
        },
      });
      plugins.push(p);
    }
    await Promise.all(plugins.map((p) => p.open()));
    // Every kernel's source watch is live once its first (ready) re-read happened.
    await until(() => plugins.every((p) => p.status().fetchedAt !== null), 60_000);
    await new Promise((r) => setTimeout(r, 500)); // let the watchers' initial scans finish (not an event wait)
    const perKernel = (heapMiB() - before) / n;
    swappedAt = performance.now();
    await swap(vol, 2);
    await until(() => arrived.every((t) => t > 0), 60_000);
    const s = stats(arrived);
    const sorted = [...arrived].sort((a, b) => a - b);
    const p99 = sorted[Math.min(sorted.length - 1, Math.floor(0.99 * (sorted.length - 1)))]!;
    const wrong = plugins.filter((p) => !p.rows().some((r) => r.key === "KEY_0")).length;
    return [
      { group: G, name: `files, ${n} kernels: one ..data swap -> every kernel has the new values`, unit: "ms", ...s, target: "p95 <= 2,000 ms, every kernel", pass: s.p95 <= 2_000 && wrong === 0, note: `p99 ${p99.toFixed(0)} ms; requests to any manager: 0 (no network); all ${n} in one process, sharing one watcher and one read per snapshot` },
      { group: G, name: `files, ${n} kernels: memory per kernel (heap, after GC)`, unit: "MiB", min: perKernel, median: perKernel, p95: perKernel, max: perKernel, target: "<= 1 MiB", pass: perKernel <= 1 },
    ];
  } finally {
    await Promise.all(plugins.map((p) => p.close()));
  }
}

async function pollingAtScale(n: number, root: string, intervalS: number, windowMs: number): Promise<Row> {
  const doppler = await startDopplerServer({ projects: { p: { dev: { A: "1" } } }, serviceTokens: [{ token: "dp.st.scale", project: "p", config: "dev" }] });
  const nb = join(root, `poll-${n}`);
  await mkdir(nb);
  await writeFile(join(nb, "notebook.toml"), `[secret_manager]\nprovider = "doppler"\nrefresh_interval = "${intervalS}s"\n`);
  const plugins: SecretManagerPlugin[] = [];
  try {
    for (let i = 0; i < n; i++) plugins.push(createSecretManagerPlugin({ notebookDir: nb, env: {}, watch: false, minRefreshIntervalMs: 1_000, credentials: { DOPPLER_API_HOST: doppler.url, DOPPLER_TOKEN: "dp.st.scale" } }));
    await Promise.all(plugins.map((p) => p.open()));
    // One interval to spread the kernels' phases, then count.
    await new Promise((r) => setTimeout(r, intervalS * 1000));
    const start = doppler.downloads();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, windowMs)); // measuring a rate over a fixed window
    const perMinute = ((doppler.downloads() - start) / (performance.now() - t0)) * 60_000;
    const expected = (n * 60) / intervalS;
    return {
      group: G,
      name: `polling (refresh_interval ${intervalS}s), ${n} kernels: requests per minute to the manager`,
      unit: "req/min",
      min: perMinute,
      median: perMinute,
      p95: perMinute,
      max: perMinute,
      baseline: expected,
      ratio: perMinute / expected,
      target: `N x 60 / interval = ${expected.toFixed(0)} (±25%)`,
      pass: Math.abs(perMinute / expected - 1) <= 0.25,
      note: "each kernel: one request per interval (±10% jitter), no login per fetch",
    };
  } finally {
    await Promise.all(plugins.map((p) => p.close()));
    await doppler.close();
  }
}

export async function benchScale(): Promise<Row[]> {
  const root = await mkdtemp(join(tmpdir(), "strata-scale-"));
  const rows: Row[] = [];
  try {
    for (const n of [10, 100, 1_000]) rows.push(...(await filesAtScale(n, root)));
    for (const n of [10, 100, 1_000]) rows.push(await pollingAtScale(n, root, 5, 10_000));
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  return rows;
}
