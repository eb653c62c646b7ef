import { supervise } from "../supervisor.js";
import { EXIT, notebookDir, out, parseCommand, stringOption, UsageError } from "./args.js";
import { HELP } from "./help.js";

/** `strata-secrets run <dir>`: every cell once, in a supervised kernel process. */
export async function runCommand(args: string[]): Promise<number> {
  const parsed = parseCommand("run", args, { json: { type: "boolean" }, "keep-going": { type: "boolean" }, timeout: { type: "string" } });
  if (parsed.values.help) return out(HELP["run"]!), EXIT.ok;
  const dir = await notebookDir(parsed.positionals[0]);
  const timeout = stringOption(parsed, "timeout");
  const timeoutMs = timeout === undefined ? 20_000 : Number(timeout);
  if (!(timeoutMs > 0)) throw new UsageError("--timeout takes a positive number of milliseconds");
  return supervise({ command: "run", dir, json: parsed.values["json"] === true, keepGoing: parsed.values["keep-going"] === true, timeoutMs });
}
