import { supervise } from "../supervisor.js";
import { EXIT, notebookDir, out, parseCommand } from "./args.js";
import { HELP } from "./help.js";

/** `strata-secrets watch <dir> [--run]`: one line per reload/fetch; --run re-runs the cells. */
export async function watchCommand(args: string[]): Promise<number> {
  const parsed = parseCommand("watch", args, { run: { type: "boolean" } });
  if (parsed.values.help) return out(HELP["watch"]!), EXIT.ok;
  const dir = await notebookDir(parsed.positionals[0]);
  return supervise({ command: "watch", dir, rerun: parsed.values["run"] === true });
}
