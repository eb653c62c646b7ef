import { Console } from "node:console";
import type { OutputMasker } from "../plugin/types.js";
import { textWrite, type Write } from "./text-write.js";

type StreamName = "stdout" | "stderr";

/** What one cell wrote, already masked. */
export interface CellOutput {
  stdout: string;
  stderr: string;
}

/**
 * Intercepts process.stdout/stderr writes while installed: every chunk goes through a
 * streaming masker before it is shown; while a cell runs, it is also recorded for it.
 */
export class OutputCapture {
  readonly #newMasker: () => OutputMasker;
  readonly #echo: boolean;
  #originals: Record<StreamName, Write> | null = null;
  #console: Console | null = null;
  #maskers: Record<StreamName, OutputMasker> | null = null;
  #rest: Record<StreamName, () => string> = { stdout: () => "", stderr: () => "" };
  #cell: CellOutput | null = null;

  constructor(newMasker: () => OutputMasker, options: { echo?: boolean } = {}) {
    this.#newMasker = newMasker;
    this.#echo = options.echo ?? true;
  }

  install(): void {
    if (this.#originals) return;
    this.#originals = { stdout: process.stdout.write, stderr: process.stderr.write };
    // A host may have replaced the global console (test runners do); cells get one that
    // writes to process.stdout/stderr, so that nothing they print skips the masker.
    this.#console = globalThis.console;
    globalThis.console = new Console({ stdout: process.stdout, stderr: process.stderr });
    this.#maskers = { stdout: this.#newMasker(), stderr: this.#newMasker() };
    for (const name of ["stdout", "stderr"] as const) {
      const { write, rest } = textWrite((text) => this.#emit(name, this.#maskers![name].write(text)));
      process[name].write = write;
      this.#rest[name] = rest;
    }
  }

  /** Starts recording for a cell, with fresh maskers built from the current secrets. */
  begin(): void {
    this.#flushMaskers();
    this.#maskers = { stdout: this.#newMasker(), stderr: this.#newMasker() };
    this.#cell = { stdout: "", stderr: "" };
  }

  /** Ends the cell: flushes what the maskers held back and returns the cell's output. */
  end(): CellOutput {
    this.#flushMaskers();
    const out = this.#cell ?? { stdout: "", stderr: "" };
    this.#cell = null;
    return out;
  }

  /** Writes text the kernel itself produced (already safe) as if the cell had written it. */
  record(name: StreamName, text: string): void {
    this.#emit(name, text);
  }

  uninstall(): void {
    if (!this.#originals) return;
    this.#flushMaskers();
    process.stdout.write = this.#originals.stdout;
    process.stderr.write = this.#originals.stderr;
    this.#originals = null;
    if (this.#console) globalThis.console = this.#console;
    this.#console = null;
  }

  #flushMaskers(): void {
    if (!this.#maskers) return;
    for (const name of ["stdout", "stderr"] as const) this.#emit(name, this.#maskers[name].write(this.#rest[name]()) + this.#maskers[name].flush());
  }

  #emit(name: StreamName, text: string): void {
    if (text === "") return;
    if (this.#cell) this.#cell[name] += text;
    // Output outside a cell (late timers, the host's own) is always shown, masked.
    if (!this.#originals) process[name].write(text);
    else if (this.#echo || !this.#cell) this.#originals[name].call(process[name], text);
  }
}
