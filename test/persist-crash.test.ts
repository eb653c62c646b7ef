import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { tempDir } from "./helpers.js";

// A crash between writing the temp file and renaming it: rename never happens.
vi.mock("node:fs", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:fs")>();
  return { ...real, renameSync: () => { throw Object.assign(new Error("simulated crash"), { code: "EIO" }); } };
});

describe("a failure between temp write and rename", () => {
  it("leaves the old file intact and no temp file", async () => {
    const { writeEnvTable } = await import("../redaction/persist.js");
    const { dir, cleanup } = await tempDir();
    const file = join(dir, "notebook.toml");
    const original = '# keep me\n[env]\nA = "1"\n';
    await writeFile(file, original);
    const error = await writeEnvTable(file, new Map([["A", "2"]])).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "TomlEditError", reason: "write-failed", message: "Could not write notebook.toml: EIO" });
    expect(await readFile(file, "utf8")).toBe(original);
    expect(await readdir(dir)).toEqual(["notebook.toml"]);
    await cleanup();
  });
});
