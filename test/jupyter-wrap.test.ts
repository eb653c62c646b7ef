import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import { wrapExecutor, type TslabExecutor } from "../kernel/jupyter/wrap.js";
import { createSecretManagerPlugin, type SecretManagerPlugin } from "../plugin/index.js";
import { tempDir, writeNotebook } from "./helpers.js";

const realOut = process.stdout.write;
const realErr = process.stderr.write;
afterEach(() => {
  process.stdout.write = realOut;
  process.stderr.write = realErr;
});

/** Stands in for tslab's iopub writers: records what reaches the client. */
function iopub(): { out: string[]; err: string[] } {
  const seen = { out: [] as string[], err: [] as string[] };
  process.stdout.write = ((c: string) => (seen.out.push(String(c)), true)) as typeof process.stdout.write;
  process.stderr.write = ((c: string) => (seen.err.push(String(c)), true)) as typeof process.stderr.write;
  return seen;
}

async function openPlugin(): Promise<{ plugin: SecretManagerPlugin; cleanup: () => Promise<void> }> {
  const { dir, cleanup } = await tempDir();
  await writeNotebook(dir, '[env]\nSECRET_TOKEN = "tok-value-123456"\nPLAIN = "p"\n');
  const plugin = createSecretManagerPlugin({ notebookDir: dir, env: {}, watch: false });
  onTestFinished(async () => {
    await plugin.close();
    await cleanup();
  });
  await plugin.open();
  return { plugin, cleanup };
}

describe("tslab executor wrap", () => {
  it("runs each cell between the hooks and masks what it writes, split across chunks too", async () => {
    const { plugin } = await openPlugin();
    const calls: string[] = [];
    const executor: TslabExecutor = {
      execute: async (src) => {
        calls.push(src);
        process.stdout.write("value: tok-val");
        process.stdout.write("ue-123456 done\n");
        return true;
      },
    };
    wrapExecutor(executor, plugin, Promise.resolve());
    const seen = iopub();
    expect(await executor.execute("cell 1")).toBe(true);
    expect(calls).toEqual(["cell 1"]);
    expect(seen.out.join("")).toBe("value: *** done\n");
  });

  it("a failing hook fails the cell with a clear message and does not run it", async () => {
    const { plugin } = await openPlugin();
    await plugin.close();
    let ran = false;
    const executor: TslabExecutor = { execute: async () => ((ran = true), true) };
    wrapExecutor(executor, plugin, Promise.resolve());
    const seen = iopub();
    expect(await executor.execute("x")).toBe(false);
    expect(ran).toBe(false);
    expect(seen.err.join("")).toMatch(/^strata-secrets: the secrets could not be applied to this cell \(.*closed\); it was not run\.\n$/);
  });
});
