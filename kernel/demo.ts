// `npm start`: the whole flow on the bundled server, in a temp copy of the demo notebook.
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSecretManagerPlugin } from "../plugin/plugin.js";
import type { PluginEvent } from "../plugin/types.js";
import { secretForms } from "../redaction/encodings.js";
import { readSecretsFile, startDevServer, DEMO_SECRETS_FILE } from "./dev-server.js";
import { formatRows, formatStatus, styleFor } from "./format.js";
import { createKernel } from "./kernel.js";
import { packageRoot } from "./paths.js";

const style = styleFor(process.stdout);
const say = (text = "") => process.stdout.write(`${text}\n`);
const step = (n: number, text: string) => say(`\n${style.bold(`${n}. ${text}`)}`);

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await filesUnder(p)));
    else out.push(p);
  }
  return out;
}

async function main(): Promise<void> {
  const started = performance.now();
  const source = join(packageRoot(), "fixtures", "notebooks", "demo");
  const dir = await mkdtemp(join(tmpdir(), "strata-demo-"));
  await cp(source, dir, { recursive: true });
  const dev = await startDevServer();
  const events: PluginEvent[] = [];
  let onFetched: (() => void) | null = null;
  const plugin = createSecretManagerPlugin({
    notebookDir: dir,
    credentials: dev.credentials,
    onEvent: (e) => {
      events.push(e);
      if (e.type === "secrets-fetched") onFetched?.();
    },
  });
  const kernel = createKernel({ notebookDir: dir, plugins: [plugin] });
  const runCells = async () => {
    for (const r of await kernel.runAll({ onCell: (c) => say(style.dim(`── cell ${c.id} (${c.language}) ──`)) })) {
      if (!r.ok) say(style.red(`cell ${r.id} failed: ${r.error}`));
    }
  };
  const showRows = () => say(`${formatRows(plugin.rows(), style)}\n\n${formatStatus(plugin.status(), style)}`);

  try {
    say(style.bold("strata-secrets demo"));
    say(`Bundled Infisical-compatible server: ${dev.server.url} (project ${dev.projectId})`);
    say(`Notebook: a temp copy of fixtures/notebooks/demo at ${dir}`);

    step(1, "Open the notebook: read notebook.toml, log in, fetch [secret_manager] path \"/\"");
    await plugin.open();
    showRows();

    step(2, "Run the cells (process.env is patched before each; output is masked)");
    await runCells();

    step(3, "Save notebook.toml with path = \"/app\", as an editor would");
    const file = join(dir, "notebook.toml");
    const fetched = new Promise<void>((resolve) => (onFetched = resolve));
    const saveAt = performance.now();
    await writeFile(file, (await readFile(file, "utf8")).replace('path = "/"', 'path = "/app"'));
    await fetched;
    const last = events.filter((e) => e.type === "secrets-fetched").at(-1);
    if (last?.type === "secrets-fetched") {
      say(`Reloaded in ${Math.round(performance.now() - saveAt)} ms: +${last.added.join(" +") || "none"} ~${last.changed.join(" ~") || "none"} -${last.removed.join(" -") || "none"}`);
    }
    showRows();
    await runCells();

    step(4, "Type values in the Runtime panel (saveEnv): a sensitive one stays in memory only");
    await plugin.saveEnv({ ...plugin.maskedEnv(), LOG_LEVEL: "warning", WEBHOOK_TOKEN: "typed-in-the-panel-5c2e" });
    showRows();

    step(5, "notebook.toml on disk now (sensitive and fetched values are never written)");
    say(style.dim((await readFile(file, "utf8")).trimEnd()));

    step(6, "Check every file under the notebook directory for any secret value");
    const secrets = await readSecretsFile(DEMO_SECRETS_FILE);
    const values = [...Object.values(secrets.secrets).flatMap((f) => Object.values(f).flatMap((s) => Object.values(s))), "typed-in-the-panel-5c2e"];
    const forms = values.filter((v) => v.length >= 8).flatMap((v) => secretForms(v));
    const leaks: string[] = [];
    for (const f of await filesUnder(dir)) {
      const text = await readFile(f, "utf8");
      if (forms.some((s) => text.includes(s))) leaks.push(f);
    }
    const written = (await filesUnder(dir)).map((f) => f.slice(dir.length + 1)).sort();
    say(`Files: ${written.join(", ")}`);
    say(leaks.length === 0 ? style.green("No secret value in any of them.") : style.red(`LEAK in ${leaks.join(", ")}`));
    if (leaks.length > 0) process.exitCode = 1;
    say(`\nDone in ${Math.round(performance.now() - started)} ms. Next: README.md, "Use it with real Infisical".`);
  } finally {
    kernel.close();
    await plugin.close();
    await dev.server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
