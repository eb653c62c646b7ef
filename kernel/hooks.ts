import type { OutputMasker } from "../redaction/masker.js";

/** A CellRef: which cell a hook is about. */
export interface CellRef {
  id: string;
}

/**
 * What a kernel needs from a plugin. Every hook is optional; `name` tags its failures.
 * `beforeCellRun` runs before the cell, `afterCellRun` after it (also when the cell or
 * another plugin's hook failed) for every plugin whose `beforeCellRun` was called.
 */
export interface KernelPlugin {
  readonly name: string;
  beforeCellRun?(cell: CellRef): void;
  afterCellRun?(cell: CellRef): void;
  /** A streaming masker for the cell's output; the maskers of all plugins compose. */
  createOutputMasker?(): OutputMasker;
}

/** A hook that threw: which plugin, which hook, and its message. */
export interface HookFailure {
  plugin: string;
  hook: "beforeCellRun" | "afterCellRun";
  message: string;
}

const passThrough: OutputMasker = { write: (t) => t, flush: () => "" };

/** Chains maskers: each one's output is the next one's input; flush drains them in order. */
export function composeMaskers(maskers: readonly OutputMasker[]): OutputMasker {
  if (maskers.length === 0) return passThrough;
  if (maskers.length === 1) return maskers[0]!;
  return {
    write: (chunk) => maskers.reduce((text, m) => m.write(text), chunk),
    flush() {
      let carry = "";
      for (const m of maskers) carry = m.write(carry) + m.flush();
      return carry;
    },
  };
}

/**
 * Calls the plugins' hooks like Vite/Rollup call theirs: every plugin's hook is called, in
 * order; a failure is reported with the plugin and hook name and never stops the others.
 */
export class PluginHost {
  readonly #plugins: readonly KernelPlugin[];

  constructor(plugins: readonly KernelPlugin[]) {
    this.#plugins = plugins;
  }

  /** Calls every `beforeCellRun`; returns the plugins called (their afterCellRun is owed) and the failures. */
  before(cell: CellRef): { called: KernelPlugin[]; failures: HookFailure[] } {
    const called: KernelPlugin[] = [];
    const failures: HookFailure[] = [];
    for (const p of this.#plugins) {
      called.push(p);
      const failure = attempt(p, "beforeCellRun", cell);
      if (failure) failures.push(failure);
    }
    return { called, failures };
  }

  /** Calls `afterCellRun` of the plugins whose `beforeCellRun` was called, in reverse order. */
  after(cell: CellRef, called: readonly KernelPlugin[]): HookFailure[] {
    const failures: HookFailure[] = [];
    for (const p of [...called].reverse()) {
      const failure = attempt(p, "afterCellRun", cell);
      if (failure) failures.push(failure);
    }
    return failures;
  }

  /** One masker made of every plugin's masker. */
  createMasker(): OutputMasker {
    return composeMaskers(this.#plugins.flatMap((p) => (p.createOutputMasker ? [p.createOutputMasker()] : [])));
  }
}

function attempt(p: KernelPlugin, hook: HookFailure["hook"], cell: CellRef): HookFailure | null {
  const fn = p[hook];
  if (!fn) return null;
  try {
    fn.call(p, cell);
    return null;
  } catch (error) {
    return { plugin: p.name, hook, message: error instanceof Error ? error.message : String(error) };
  }
}

/** `[strata-secrets] plugin "x": beforeCellRun failed: ...` */
export function describeFailure(f: HookFailure): string {
  return `[kernel] plugin "${f.plugin}": ${f.hook} failed: ${f.message}`;
}
