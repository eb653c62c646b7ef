import { supervise } from "../supervisor.js";
import { EXIT, notebookDir, out, parseCommand, UsageError } from "./args.js";
import { HELP } from "./help.js";

/** `strata-secrets watch <dir> [--run [--rerun-stale]]`: one line per reload/fetch; --run re-runs the cells. */
export async function watchCommand(args: string[]): Promise<number> {
  const parsed = parseCommand("watch", args, { run: { type: "boolean" }, "rerun-stale": { type: "boolean" } });
  if (parsed.values.help) return out(HELP["watch"]!), EXIT.ok;
  const dir = await notebookDir(parsed.positionals[0]);
  const rerunStale = parsed.values["rerun-stale"] === true;
  if (rerunStale && parsed.values["run"] !== true) throw new UsageError("--rerun-stale needs --run");
  return supervise({ command: "watch", dir, rerun: parsed.values["run"] === true, rerunStale });
}
