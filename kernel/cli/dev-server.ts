import { DEV_PROVIDERS, startDevServer, startManagerDevServer } from "../dev-server.js";
import { CliError, EXIT, out, parseCommand, portOption, stringOption, untilSignal } from "./args.js";
import { HELP } from "./help.js";

/** `strata-secrets dev-server [--provider …]`: a bundled manager fixture until Ctrl-C. */
export async function devServerCommand(args: string[]): Promise<number> {
  const parsed = parseCommand("dev-server", args, { port: { type: "string" }, secrets: { type: "string" }, provider: { type: "string" } });
  if (parsed.values.help) return out(HELP["dev-server"]!), EXIT.ok;
  const port = portOption(stringOption(parsed, "port"));
  const secretsFile = stringOption(parsed, "secrets");
  const provider = stringOption(parsed, "provider") ?? "infisical";
  if (!(DEV_PROVIDERS as readonly string[]).includes(provider)) throw new CliError(`--provider must be one of ${DEV_PROVIDERS.join(", ")} (got '${provider}')`);
  const failed = (error: NodeJS.ErrnoException): never => {
    if (error.code === "ENOENT") throw new CliError(`cannot read ${secretsFile}: no such file`);
    if (error.code === "EADDRINUSE") throw new CliError(`cannot start the dev server: 127.0.0.1:${port} is already in use (EADDRINUSE)`);
    throw new CliError(error.message);
  };
  if (provider !== "infisical") {
    const manager = await startManagerDevServer(provider as "vault" | "aws" | "doppler", { ...(port !== undefined ? { port } : {}), ...(secretsFile ? { secretsFile } : {}) }).catch(failed);
    try {
      out(`${provider} fixture server on ${manager.url} (local test secrets only)\n`);
      out(`export ${Object.entries(manager.exports).map(([k, v]) => `${k}=${v}`).join(" ")}`);
      out(`\n[secret_manager]   # in notebook.toml\n${manager.secretManager}\n\nCtrl-C to stop.`);
      await untilSignal();
    } finally {
      await manager.close();
    }
    return EXIT.ok;
  }
  const dev = await startDevServer({ ...(port !== undefined ? { port } : {}), ...(secretsFile ? { secretsFile } : {}) }).catch(failed);
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
