import { createSecretManagerPlugin } from "../../plugin/plugin.js";
import { createKernel, type Kernel } from "../kernel.js";
import { EXIT, notebookDir, out, parseCommand, untilSignal } from "./args.js";
import { describeEvent, stamped } from "./events.js";
import { HELP } from "./help.js";

/** `strata-secrets watch <dir> [--run]`: one line per reload/fetch; --run re-runs the cells. */
export async function watchCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseCommand("watch", args, { run: { type: "boolean" } });
  if (values.help) return out(HELP["watch"]!), EXIT.ok;
  const dir = await notebookDir(positionals[0]);
  let running = Promise.resolve();
  let kernel: Kernel | null = null;
  const warned = new Set<string>();
  const onWarning = (w: string) => {
    if (!warned.has(w)) process.stderr.write(`strata-secrets: warning: notebook.toml: ${w}\n`);
    warned.add(w);
  };
  const rerun = () => {
    running = running.then(async () => {
      if (!kernel) return;
      const results = await kernel.runAll({ onWarning });
      out(`ran ${results.length} cell(s): ${results.every((r) => r.ok) ? "ok" : "a cell failed"}`);
    });
  };
  const plugin = createSecretManagerPlugin({
    notebookDir: dir,
    onEvent: (e) => {
      const line = describeEvent(e);
      if (line) out(stamped(line));
      if (values["run"] && kernel && (e.type === "secrets-fetched" || (e.type === "config-reloaded" && !e.secretManagerChanged))) rerun();
    },
  });
  try {
    await plugin.open();
    kernel = createKernel({ notebookDir: dir, plugins: [plugin] });
    if (values["run"]) rerun();
    out(`watching ${dir}/notebook.toml (Ctrl-C to stop)`);
    await untilSignal();
    await running;
  } finally {
    kernel?.close();
    await plugin.close();
  }
  out("closed");
  return EXIT.ok;
}
