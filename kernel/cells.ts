import { readFile } from "node:fs/promises";
import { extname, join } from "node:path";
import { loadNotebookParser, type CellConfig } from "../plugin/config.js";

export interface CellSource {
  id: string;
  language: "javascript" | "typescript";
  /** Absolute path of the cell's source file. */
  path: string;
  order: number;
}

/** Reads the `[[cells]]` of notebook.toml, in order (by `order`, then as listed), and what was ignored. */
export async function loadCells(notebookDir: string): Promise<{ cells: CellSource[]; warnings: string[] }> {
  const text = await readFile(join(notebookDir, "notebook.toml"), "utf8");
  const parsed = (await loadNotebookParser(new Map()))(text);
  if (parsed.cells === undefined) throw new Error(parsed.errors.join("; "));
  const cells = parsed.cells
    .map((cell: CellConfig, index) => ({ cell, index }))
    .sort((a, b) => (a.cell.order ?? a.index) - (b.cell.order ?? b.index) || a.index - b.index)
    .map(({ cell }) => {
      const file = cell.file ?? `${cell.id}.${cell.language === "typescript" ? "ts" : "js"}`;
      const ext = extname(file);
      const language: CellSource["language"] = cell.language === "typescript" || ext === ".ts" || ext === ".mts" ? "typescript" : "javascript";
      if (cell.language !== undefined && cell.language !== "javascript" && cell.language !== "typescript") {
        throw new Error(`cell '${cell.id}': language '${cell.language}' is not supported by this kernel (javascript, typescript)`);
      }
      return { id: cell.id, language, path: join(notebookDir, "cells", file), order: cell.order ?? 0 };
    });
  return { cells, warnings: parsed.warnings };
}
