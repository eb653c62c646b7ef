import { existsSync } from "node:fs";
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

/** The tslab version the preload's wrap was written against (an optional peer dependency). */
export const TSLAB_VERSION = "1.0.22";

/** tslab is not installed where strata-secrets can resolve it. */
export class TslabMissingError extends Error {
  override name = "TslabMissingError";
  constructor() {
    super(`the Jupyter kernel needs tslab, an optional peer dependency that is not installed: run  npm install tslab@${TSLAB_VERSION}  in this project, then run this command again`);
  }
}

/** tslab's command, resolved from this package (as Node would for the kernel). */
function tslabBin(root: string): string {
  try {
    return join(dirname(createRequire(join(root, "package.json")).resolve("tslab/package.json")), "bin", "tslab");
  } catch {
    throw new TslabMissingError();
  }
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
  const tslab = tslabBin(root);
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

/** Removes the kernelspec; says whether there was one. */
export async function uninstallKernelspec(options: Pick<KernelspecOptions, "name" | "prefix" | "js"> = {}): Promise<{ dir: string; removed: boolean }> {
  const name = options.name ?? (options.js ? "strata-js" : "strata-ts");
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`invalid kernel name '${name}'`);
  const dir = join(kernelsDir(options.prefix), name);
  const removed = existsSync(join(dir, "kernel.json"));
  await rm(dir, { recursive: true, force: true });
  return { dir, removed };
}
