import { mkdir, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { packageRoot } from "../paths.js";

export interface KernelspecOptions {
  /** Kernel name (directory under kernels/), default "strata-ts" ("strata-js" with js). */
  name?: string;
  /** JavaScript instead of TypeScript cells. */
  js?: boolean;
  /** Install under PREFIX/share/jupyter/kernels instead of the user's data directory. */
  prefix?: string;
}

/** Where Jupyter looks for a user's kernels (JUPYTER_DATA_DIR, XDG_DATA_HOME, ~/.local/share). */
function kernelsDir(prefix: string | undefined): string {
  if (prefix) return join(prefix, "share", "jupyter", "kernels");
  const data = process.env["JUPYTER_DATA_DIR"] ?? join(process.env["XDG_DATA_HOME"] || join(homedir(), ".local", "share"), "jupyter");
  return join(data, "kernels");
}

/**
 * Writes a kernelspec that starts tslab with the strata-secrets preload in `argv` (not
 * NODE_OPTIONS, which cells and their child processes would inherit).
 */
export async function installKernelspec(options: KernelspecOptions = {}): Promise<{ dir: string; spec: Record<string, unknown> }> {
  const name = options.name ?? (options.js ? "strata-js" : "strata-ts");
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`invalid kernel name '${name}' (letters, digits, . _ -)`);
  const root = packageRoot();
  const preload = join(root, "dist", "kernel", "jupyter", "preload.js");
  const tslab = join(dirname(createRequire(join(root, "package.json")).resolve("tslab/package.json")), "bin", "tslab");
  const spec = {
    argv: [process.execPath, "--import", preload, tslab, "kernel", "--config-path", "{connection_file}", ...(options.js ? ["--js"] : [])],
    display_name: options.js ? "JavaScript (strata-secrets)" : "TypeScript (strata-secrets)",
    language: options.js ? "javascript" : "typescript",
    metadata: { strata_secrets: { preload } },
  };
  const dir = join(kernelsDir(options.prefix), name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "kernel.json"), `${JSON.stringify(spec, null, 2)}\n`);
  return { dir, spec };
}

export async function uninstallKernelspec(options: Pick<KernelspecOptions, "name" | "prefix" | "js"> = {}): Promise<string> {
  const name = options.name ?? (options.js ? "strata-js" : "strata-ts");
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`invalid kernel name '${name}'`);
  const dir = join(kernelsDir(options.prefix), name);
  await rm(dir, { recursive: true, force: true });
  return dir;
}
