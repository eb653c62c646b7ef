import { sectionKey, type NotebookParser, type SecretManagerSection } from "./config.js";

export interface ApplyOutcome {
  /** TOML could not be read at all: nothing was taken. */
  invalid: boolean;
  errors: string[];
  secretManagerChanged: boolean;
  envChanged: boolean;
}

function sameMap(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

/**
 * The last good configuration read from notebook.toml. A section that fails validation
 * keeps its last good value; `generation` counts `[secret_manager]` changes.
 */
export class NotebookState {
  secretManager: SecretManagerSection | null = null;
  env: ReadonlyMap<string, string> = new Map();
  cellEnv: ReadonlyMap<string, ReadonlyMap<string, string>> = new Map();
  generation = 0;
  #smKey = "";
  readonly #parse: NotebookParser;

  constructor(parse: NotebookParser) {
    this.#parse = parse;
  }

  apply(text: string): ApplyOutcome {
    const parsed = this.#parse(text);
    const outcome: ApplyOutcome = { invalid: parsed.syntaxError, errors: parsed.errors, secretManagerChanged: false, envChanged: false };
    if (parsed.syntaxError) return outcome;
    if (parsed.secretManager !== undefined) {
      const key = sectionKey(parsed.secretManager);
      if (key !== this.#smKey) {
        this.#smKey = key;
        this.secretManager = parsed.secretManager;
        this.generation++;
        outcome.secretManagerChanged = true;
      }
    }
    if (parsed.env !== undefined && !sameMap(parsed.env, this.env)) {
      this.env = parsed.env;
      outcome.envChanged = true;
    }
    if (parsed.cells !== undefined) {
      const cellEnv = new Map<string, ReadonlyMap<string, string>>();
      for (const cell of parsed.cells) if (cell.env.size > 0) cellEnv.set(cell.id, cell.env);
      const changed = cellEnv.size !== this.cellEnv.size || [...cellEnv].some(([id, env]) => !sameMap(env, this.cellEnv.get(id) ?? new Map()));
      if (changed) outcome.envChanged = true;
      this.cellEnv = cellEnv;
    }
    return outcome;
  }
}
