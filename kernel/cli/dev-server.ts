import { startDevServer } from "../dev-server.js";
import { CliError, EXIT, out, parseCommand, portOption, stringOption, untilSignal } from "./args.js";
import { HELP } from "./help.js";

/** `strata-secrets dev-server`: the bundled Infisical-compatible server until Ctrl-C. */
export async function devServerCommand(args: string[]): Promise<number> {
  const parsed = parseCommand("dev-server", args, { port: { type: "string" }, secrets: { type: "string" } });
  if (parsed.values.help) return out(HELP["dev-server"]!), EXIT.ok;
  const port = portOption(stringOption(parsed, "port"));
  const secretsFile = stringOption(parsed, "secrets");
  const dev = await startDevServer({ ...(port !== undefined ? { port } : {}), ...(secretsFile ? { secretsFile } : {}) }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") throw new CliError(`cannot read ${secretsFile}: no such file`);
    if (error.code === "EADDRINUSE") throw new CliError(`cannot start the dev server: 127.0.0.1:${port} is already in use (EADDRINUSE)`);
    throw new CliError(error.message);
  });
  try {
    out(`Infisical-compatible dev server on ${dev.server.url} (local test secrets only)\n`);
    out(`export INFISICAL_HOST=${dev.credentials.INFISICAL_HOST} INFISICAL_CLIENT_ID=${dev.credentials.INFISICAL_CLIENT_ID} INFISICAL_CLIENT_SECRET=${dev.credentials.INFISICAL_CLIENT_SECRET}`);
    out(`\nproject_id = "${dev.projectId}"   # for [secret_manager] in notebook.toml\n\nCtrl-C to stop.`);
    await untilSignal();
  } finally {
    await dev.server.close();
  }
  return EXIT.ok;
}
