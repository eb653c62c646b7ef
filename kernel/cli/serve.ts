import { supervise } from "../supervisor.js";
import { EXIT, notebookDir, out, parseCommand, portOption, stringOption } from "./args.js";
import { HELP } from "./help.js";

/** `strata-secrets serve <dir>`: the Runtime panel on 127.0.0.1 until Ctrl-C. */
export async function serveCommand(args: string[]): Promise<number> {
  const parsed = parseCommand("serve", args, { port: { type: "string" } });
  if (parsed.values.help) return out(HELP["serve"]!), EXIT.ok;
  const dir = await notebookDir(parsed.positionals[0]);
  return supervise({ command: "serve", dir, port: portOption(stringOption(parsed, "port")) });
}
