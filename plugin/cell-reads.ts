import type { CellAccess } from "./env-tracker.js";
import type { EnvEntry } from "./env-model.js";
import type { CellProvenance, CellRead, StaleCell } from "./types.js";

type Entries = ReadonlyMap<string, EnvEntry>;

interface Seen {
  source: string;
  version: string;
}

/**
 * Which managed keys each cell read, and the provenance (source, version) of the values it
 * saw — never a value. A cell is stale when a key it read now has another version, is gone,
 * or comes from another source. Costs O(1) per cell that read nothing, O(keys read) otherwise.
 */
export class CellReads {
  readonly #cells = new Map<string, Map<string, Seen>>();
  /** The entries in force when the running cell started (what it saw), and its id. */
  #atStart: Entries | null = null;
  #running: string | undefined;
  /** What was last reported stale: cell id -> its stale keys (to report only what is new). */
  #reported = new Map<string, string>();

  /** A cell starts: remember the entries it sees (the model replaces its map on change). */
  begin(entries: Entries, id: string): void {
    this.#atStart = entries;
    this.#running = id;
  }

  /** A cell ended: record what it read (replacing what it read last time it ran). */
  end(cellId: string | undefined, access: CellAccess | null): void {
    const entries = this.#atStart;
    const id = cellId ?? this.#running;
    this.#atStart = null;
    if (id === undefined) return;
    if (this.#reported.size > 0) this.#reported.delete(id); // it ran again: report it afresh
    if (!access || !entries) return; // not tracked (a plain object env): nothing known
    if (access.read.size === 0 && !access.readAll) {
      if (this.#cells.size > 0) this.#cells.delete(id);
      return;
    }
    // The same cell reading the same keys at the same versions again (the usual re-run): keep.
    const prev = this.#cells.get(id);
    if (prev && !access.readAll && prev.size === access.read.size && unchanged(prev, access, entries)) return;
    const seen = new Map<string, Seen>();
    const take = (key: string) => {
      const e = entries.get(key);
      if (e?.value !== undefined && e.version !== undefined && !access.written.has(key)) seen.set(key, { source: e.source, version: e.version });
    };
    if (access.readAll) for (const key of entries.keys()) take(key);
    else for (const key of access.read) take(key);
    if (seen.size > 0) this.#cells.set(id, seen);
    else this.#cells.delete(id);
  }

  /** What a cell read, with where each value came from; null when it read no managed key. */
  read(id: string, now: Entries): CellRead[] | null {
    const seen = this.#cells.get(id);
    if (!seen) return null;
    return [...seen].map(([key, s]) => ({ key, source: s.source, version: s.version, current: isCurrent(s, now.get(key)) }));
  }

  /** Cells that ran with a value that is no longer the current one, in the order they ran. */
  stale(now: Entries): StaleCell[] {
    const out: StaleCell[] = [];
    for (const [id, seen] of this.#cells) {
      const keys = [...seen].filter(([key, s]) => !isCurrent(s, now.get(key))).map(([key]) => key);
      if (keys.length > 0) out.push({ id, keys });
    }
    return out;
  }

  /** Every stale cell, when a cell became stale (or staler) since the last report; else null. */
  changed(now: Entries): StaleCell[] | null {
    if (this.#cells.size === 0) return null;
    const stale = this.stale(now);
    const next = new Map(stale.map((c) => [c.id, c.keys.join(",")]));
    const news = [...next].some(([id, keys]) => this.#reported.get(id) !== keys);
    this.#reported = next;
    return news ? stale : null;
  }

  /**
   * What each cell last read, for another session: only keys whose version is the manager's
   * own id (`infisical@7`); a session-local counter means nothing after a restart.
   */
  export(): CellProvenance {
    const out: CellProvenance = {};
    for (const [id, seen] of this.#cells) {
      const keys: Record<string, { source: string; version: string }> = {};
      let any = false;
      for (const [key, s] of seen) {
        if (!isManagerVersion(s)) continue;
        keys[key] = { source: s.source, version: s.version };
        any = true;
      }
      if (any) out[id] = keys;
    }
    return out;
  }

  /**
   * Seeds the cells this session has not run yet with what an earlier session recorded
   * (`export()`'s shape). Anything malformed is skipped; returns how many cells were taken.
   */
  import(data: unknown): number {
    if (!isRecord(data)) return 0;
    let taken = 0;
    for (const [id, keys] of Object.entries(data).slice(0, MAX_CELLS)) {
      if (this.#cells.has(id) || !isRecord(keys)) continue;
      const seen = new Map<string, Seen>();
      for (const [key, s] of Object.entries(keys).slice(0, MAX_KEYS)) {
        if (key.length > 256 || !isRecord(s) || typeof s["source"] !== "string" || typeof s["version"] !== "string") continue;
        const entry = { source: s["source"], version: s["version"] };
        if (isManagerVersion(entry)) seen.set(key, entry);
      }
      if (seen.size === 0) continue;
      this.#cells.set(id, seen);
      taken++;
    }
    return taken;
  }

  forget(id: string): void {
    this.#cells.delete(id);
    this.#reported.delete(id);
  }
}

function unchanged(prev: ReadonlyMap<string, Seen>, access: CellAccess, entries: Entries): boolean {
  for (const key of access.read) {
    const p = prev.get(key);
    const e = entries.get(key);
    if (!p || !e || e.version !== p.version || e.source !== p.source || access.written.has(key)) return false;
  }
  return true;
}

/** Bounds for what an earlier session's file may seed. */
const MAX_CELLS = 10_000;
const MAX_KEYS = 10_000;

/** The manager's own version id ("infisical@7"), not a session-local counter ("s12"). */
function isManagerVersion(s: Seen): boolean {
  return s.version.startsWith(`${s.source}@`) && s.version.length > s.source.length + 1 && s.version.length <= 512;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isCurrent(seen: Seen, now: EnvEntry | undefined): boolean {
  return now !== undefined && now.value !== undefined && now.source === seen.source && now.version === seen.version;
}
