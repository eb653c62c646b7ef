import { readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../paths.js";
import { CliError, EXIT, out, UsageError } from "./args.js";
import { HELP } from "./help.js";

const COMMANDS: Record<string, () => Promise<(args: string[]) => Promise<number>>> = {
  run: async () => (await import("./run.js")).runCommand,
  watch: async () => (await import("./watch.js")).watchCommand,
  serve: async () => (await import("./serve.js")).serveCommand,
  "dev-server": async () => (await import("./dev-server.js")).devServerCommand,
  jupyter: async () => (await import("./jupyter.js")).jupyterCommand,
};

function version(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version: string }).version;
}

/**
 * Runs the command line; returns the exit code (0 ok, 1 failed, 2 usage, 3 secrets not
 * loaded). Every error is one line on stderr.
 */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === "--version" || command === "-v") return out(version()), EXIT.ok;
    if (command === undefined || command === "--help" || command === "-h" || command === "help") return out(HELP["main"]!), EXIT.ok;
    const load = COMMANDS[command];
    if (!load) throw new UsageError(`unknown command '${command}' (run, watch, serve, dev-server, jupyter)`);
    return await (await load())(rest);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof UsageError) {
      process.stderr.write(`strata-secrets: ${message}\nSee 'strata-secrets --help'.\n`);
      return EXIT.usage;
    }
    process.stderr.write(`strata-secrets: ${message}\n`);
    return error instanceof CliError ? error.exitCode : EXIT.failed;
  }
}
