// Importing the plugin, its first fetch in a fresh process and a warm refresh, each against
// @infisical/sdk used directly (what a user would otherwise write), in the same run against
// the same loopback server. Runs the built package (dist/), as users install it.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { packageRoot } from "../kernel/paths.js";
import { notebook, serverProcess, stats, type Row } from "./lib.js";

const G = "fetch";

/** Milliseconds a fresh `node` spends in `body` (from its first statement to the end). */
async function fresh(body: string, cwd: string): Promise<number> {
  const script = `const t=performance.now();${body};process.stdout.write(String(performance.now()-t))`;
  const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", cwd });
  return Number(stdout);
}

export async function benchFetch(): Promise<Row[]> {
  const root = packageRoot();
  // What `import "strata-secrets"` loads: the package's exports entry (the bundle).
  const exported = (JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { exports: { ".": { default: string } } }).exports["."].default;
  const entry = pathToFileURL(join(root, exported)).href;
  if (!existsSync(new URL(entry))) throw new Error("bench: run `npm run build` first (npm ci does it)");
  const sdkUrl = pathToFileURL(createRequire(join(root, "package.json")).resolve("@infisical/sdk")).href;
  const secrets: Record<string, string> = {};
  for (let i = 0; i < 50; i++) secrets[`KEY_${i}`] = `value-${i}`;
  const server = await serverProcess({ projects: [{ id: "p", secrets: { dev: { "/": secrets } } }], identities: [{ clientId: "c", clientSecret: "s" }] });
  const dir = await mkdtemp(join(tmpdir(), "strata-bench-fetch-"));
  await writeFile(join(dir, "notebook.toml"), notebook("/", "p"));
  const credentials = { INFISICAL_HOST: server.url, INFISICAL_CLIENT_ID: "c", INFISICAL_CLIENT_SECRET: "s" };
  const list = `{ projectId: "p", environment: "dev", secretPath: "/", expandSecretReferences: true, includeImports: true, recursive: false }`;
  try {
    // Import alone, against a node that imports nothing.
    const nothing: number[] = [];
    const imports: number[] = [];
    // First fetch: ours (import + open() until the values are in) and the SDK alone (import +
    // login + list), alternated so that a slow moment of the machine hits both.
    const ours: number[] = [];
    const sdkAlone: number[] = [];
    const oursBody = `const { createSecretManagerPlugin } = await import(${JSON.stringify(entry)});
      const p = createSecretManagerPlugin({ notebookDir: ${JSON.stringify(dir)}, env: {}, watch: false, credentials: ${JSON.stringify(credentials)} });
      await p.open();
      while (p.status().fetchedAt === null && p.status().fetchError === null) await p.refresh();
      if (p.status().fetchError) throw new Error(p.status().fetchError);
      const took = performance.now() - t;
      await p.close();
      process.stdout.write(String(took)); process.exit(0)`;
    const sdkBody = `const { InfisicalSDK } = await import(${JSON.stringify(sdkUrl)});
      const sdk = new InfisicalSDK({ siteUrl: ${JSON.stringify(server.url)} });
      await sdk.auth().universalAuth.login({ clientId: "c", clientSecret: "s" });
      const r = await sdk.secrets().listSecrets(${list});
      if (r.secrets.length !== 50) throw new Error("bench: wrong list")`;
    for (let i = 0; i < 9; i++) {
      nothing.push(await fresh("await 0", dir));
      imports.push(await fresh(`await import(${JSON.stringify(entry)})`, dir));
      ours.push(await fresh(oursBody, dir));
      sdkAlone.push(await fresh(sdkBody, dir));
    }
    const n = stats(nothing.slice(1));
    const imp = stats(imports.slice(1));
    const first = stats(ours.slice(1));
    const peerFirst = stats(sdkAlone.slice(1));

    // Warm: plugin.refresh() against the SDK's listSecrets, both on the main thread.
    const { createSecretManagerPlugin } = (await import(entry)) as typeof import("../plugin/index.js");
    const { InfisicalSDK } = (await import(sdkUrl)) as typeof import("@infisical/sdk");
    const sdk = new InfisicalSDK({ siteUrl: server.url });
    await sdk.auth().universalAuth.login({ clientId: "c", clientSecret: "s" });
    const plugin = createSecretManagerPlugin({ notebookDir: dir, env: {}, watch: false, credentials });
    await plugin.open();
    const warmOurs: number[] = [];
    const warmSdk: number[] = [];
    for (let i = 0; i < 210; i++) {
      let t = performance.now();
      await plugin.refresh();
      if (i >= 10) warmOurs.push(performance.now() - t);
      if (plugin.status().fetchError) throw new Error(plugin.status().fetchError!);
      t = performance.now();
      const listed = await sdk.secrets().listSecrets({ projectId: "p", environment: "dev", secretPath: "/", expandSecretReferences: true, includeImports: true, recursive: false });
      if (i >= 10) warmSdk.push(performance.now() - t);
      if (listed.secrets.length !== 50) throw new Error("bench: the SDK listed the wrong secrets");
    }
    await plugin.close();
    const warm = stats(warmOurs);
    const peerWarm = stats(warmSdk);
    return [
      { group: G, name: "node importing nothing (baseline)", unit: "ms", ...n },
      { group: G, name: "importing the plugin (the package entry, dist/bundle)", unit: "ms", ...imp, target: "<= 50 ms", pass: imp.median <= 50, note: "inside the process: import() time only; zod, the TOML parser and managers' SDKs load on first use" },
      { group: G, name: "peer: @infisical/sdk alone, fresh process: import + login + list", unit: "ms", ...peerFirst },
      { group: G, name: "ours, fresh process: import + open() until the values are in", unit: "ms", ...first, baseline: peerFirst.median, ratio: peerFirst.median / first.median, target: "<= 1.1x the SDK alone (ratio >= 0.91)", pass: first.median <= 1.1 * peerFirst.median },
      { group: G, name: "peer: SDK listSecrets on the main thread, warm", unit: "ms", ...peerWarm },
      { group: G, name: "ours: refresh(), warm", unit: "ms", ...warm, baseline: peerWarm.median, ratio: peerWarm.median / warm.median, target: "<= 1.3x the SDK (ratio >= 0.77)", pass: warm.median <= 1.3 * peerWarm.median },
    ];
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
