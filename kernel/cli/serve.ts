import { createSecretManagerPlugin } from "../../plugin/plugin.js";
import { createKernel, type Kernel } from "../kernel.js";
import type { Panel } from "../panel/server.js";
import { CliError, EXIT, notebookDir, out, parseCommand, portOption, stringOption, untilSignal } from "./args.js";
import { describeEvent, stamped } from "./events.js";
import { HELP } from "./help.js";

/** `strata-secrets serve <dir>`: the Runtime panel on 127.0.0.1 until Ctrl-C. */
export async function serveCommand(args: string[]): Promise<number> {
  const parsed = parseCommand("serve", args, { port: { type: "string" } });
  if (parsed.values.help) return out(HELP["serve"]!), EXIT.ok;
  const dir = await notebookDir(parsed.positionals[0]);
  const port = portOption(stringOption(parsed, "port"));
  const { startPanel } = await import("../panel/server.js");
  let panel: Panel | null = null;
  let kernel: Kernel | null = null;
  const plugin = createSecretManagerPlugin({
    notebookDir: dir,
    onEvent: (e) => {
      const line = describeEvent(e);
      if (line) out(stamped(line));
      panel?.notify();
    },
  });
  // Whatever fails while starting, everything opened so far is closed again.
  try {
    await plugin.open();
    kernel = createKernel({ notebookDir: dir, plugins: [plugin] });
    panel = await startPanel({ plugin, kernel, ...(port !== undefined ? { port } : {}) }).catch((error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") throw new CliError(`cannot serve the Runtime panel: 127.0.0.1:${port} is already in use (EADDRINUSE); pick another --port`);
      if (error.code === "EACCES") throw new CliError(`cannot serve the Runtime panel on port ${port}: permission denied (EACCES)`);
      throw error;
    });
    out(`Runtime panel: ${panel.url}\n(the token in this URL grants access to the panel; Ctrl-C to stop)`);
    await untilSignal();
  } finally {
    await panel?.close();
    kernel?.close();
    await plugin.close();
  }
  out("closed");
  return EXIT.ok;
}
