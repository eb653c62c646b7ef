import { resolve } from "node:path";
import { CliError, EXIT, out, parseCommand, stringOption, UsageError } from "./args.js";
import { HELP } from "./help.js";

/** `strata-secrets jupyter install|uninstall`: the tslab kernelspec with strata-secrets. */
export async function jupyterCommand(args: string[]): Promise<number> {
  const parsed = parseCommand("jupyter", args, { name: { type: "string" }, js: { type: "boolean" }, prefix: { type: "string" } });
  const { values, positionals } = parsed;
  if (values.help) return out(HELP["jupyter"]!), EXIT.ok;
  const name = stringOption(parsed, "name");
  const prefix = stringOption(parsed, "prefix");
  if (positionals.length === 0) throw new UsageError("jupyter needs install or uninstall");
  const { installKernelspec, uninstallKernelspec, TslabMissingError } = await import("../jupyter/kernelspec.js");
  const opts = { ...(name ? { name } : {}), ...(values["js"] === true ? { js: true } : {}), ...(prefix ? { prefix: resolve(prefix) } : {}) };
  if (positionals[0] === "install") {
    try {
      const { dir, spec } = await installKernelspec(opts);
      out(`installed kernelspec "${String(spec["display_name"])}" in ${dir}`);
      return EXIT.ok;
    } catch (error) {
      if (error instanceof TslabMissingError) throw new CliError(error.message);
      throw error;
    }
  }
  if (positionals[0] === "uninstall") {
    const { dir, removed } = await uninstallKernelspec(opts);
    out(removed ? `removed ${dir}` : `nothing to remove: no kernelspec at ${dir}`);
    return EXIT.ok;
  }
  throw new UsageError(`unknown jupyter command '${positionals[0]}' (install, uninstall)`);
}
