import { access, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";

/** A mistake in the command line: exit code 2, with a pointer to --help. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** A failure the user can act on, printed as one line (exit code 1 unless given). */
export class CliError extends Error {
  override name = "CliError";
  constructor(message: string, readonly exitCode = 1) {
    super(message);
  }
}

/** Exit codes of the command line, documented in --help and the README. */
export const EXIT = { ok: 0, failed: 1, usage: 2, secrets: 3 } as const;

/** Writes a line to stdout. */
export const out = (text: string): void => void process.stdout.write(`${text}\n`);

type Options = NonNullable<ParseArgsConfig["options"]>;

/** What a command line holds: `--flag` is true, `--opt value` a string. */
export interface Parsed {
  values: { help?: boolean; [option: string]: string | boolean | undefined };
  positionals: string[];
}

/** parseArgs with the command's help flag and a plain-English message for a wrong option. */
export function parseCommand(command: string, args: string[], options: Options): Parsed {
  try {
    return parseArgs({ args, allowPositionals: true, strict: true, options: { ...options, help: { type: "boolean", short: "h" } } }) as Parsed;
  } catch (error) {
    const code = (error as { code?: string }).code ?? "";
    const flag = /'([^']+)'/.exec((error as Error).message)?.[1] ?? "";
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") throw new UsageError(`unknown option '${flag}' for ${command} (see 'strata-secrets ${command} --help')`);
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") throw new UsageError(`option '${flag.split(" ")[0]}' of ${command} needs a value`);
    if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") throw new UsageError(`unexpected argument for ${command}`);
    throw error;
  }
}

/** A string option's value, or undefined. */
export function stringOption(parsed: Parsed, name: string): string | undefined {
  const v = parsed.values[name];
  return typeof v === "string" ? v : undefined;
}

/** The notebook directory argument: a directory holding a readable notebook.toml. */
export async function notebookDir(arg: string | undefined): Promise<string> {
  if (!arg) throw new UsageError("missing <dir>: the directory that holds notebook.toml");
  const dir = resolve(arg);
  const info = await stat(dir).catch(() => null);
  if (!info?.isDirectory()) throw new UsageError(`${arg} is not a directory`);
  try {
    await access(join(dir, "notebook.toml"));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(code === "ENOENT" ? `no notebook.toml in ${arg}` : `cannot read ${join(arg, "notebook.toml")} (${code})`);
  }
  return dir;
}

/** --port: an integer 0..65535 (0: any free port). */
export function portOption(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!(Number.isInteger(port) && port >= 0 && port < 65536)) throw new UsageError("--port takes a port number (0-65535)");
  return port;
}

/** Resolves on the first SIGINT or SIGTERM. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((done) => {
    process.once("SIGINT", () => done("SIGINT"));
    process.once("SIGTERM", () => done("SIGTERM"));
  });
}
