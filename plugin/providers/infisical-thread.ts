import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { WorkerAuth, WorkerReply, WorkerRequest, WorkerStart } from "./infisical-worker.js";

type Pending = { resolve: (r: WorkerReply) => void; reject: (e: Error) => void };
type Op = { op: "login" } | { op: "list"; projectId: string; environment: string; secretPath: string };

let entry: Promise<URL> | null = null;

/**
 * The worker's module. Built, it is the compiled `infisical-worker.js`. Run from the
 * TypeScript sources (tests, tsx), a worker cannot load `.ts` on Node 20, so the file is
 * bundled with esbuild into a `data:` module once.
 */
function workerEntry(): Promise<URL> {
  return (entry ??= (async () => {
    if (!import.meta.url.endsWith(".ts")) return new URL("./infisical-worker.js", import.meta.url);
    // Bundled (its helpers are inlined); the SDK stays a dynamic import of sdkUrl.
    const { buildSync } = await import("esbuild");
    const { outputFiles } = buildSync({ entryPoints: [fileURLToPath(new URL("./infisical-worker.ts", import.meta.url))], bundle: true, write: false, format: "esm", platform: "node", target: "node20" });
    return new URL(`data:text/javascript;base64,${Buffer.from(outputFiles[0]!.contents).toString("base64")}`);
  })());
}

/** The SDK's location, resolved here because a `data:` module cannot resolve bare names. */
function sdkUrl(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve("@infisical/sdk")).href;
}

/**
 * The worker thread that hosts @infisical/sdk for one host + credential pair. It holds
 * the access token; `terminate()` is the only reliable way to cancel a call in flight.
 */
export class InfisicalThread {
  readonly key: string;
  /** Access token expiry in ms (null: never, e.g. service token); undefined: not logged in. */
  tokenExpiresAt: number | null | undefined = undefined;
  tokenIssuedAt = 0;
  #worker: Worker | null = null;
  #ready: Promise<void>;
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #dead: Error | null = null;
  #started = false;

  constructor(key: string, start: { siteUrl: string; auth: WorkerAuth }) {
    this.key = key;
    this.#ready = workerEntry().then(
      (url) =>
        new Promise<void>((resolve, reject) => {
          if (this.#dead) return reject(this.#dead);
          const data: WorkerStart = { ...start, sdkUrl: sdkUrl() };
          // execArgv: [] — a kernel's `--import <preload>` must not run again in the worker.
          this.#worker = new Worker(url, { workerData: data, env: {}, execArgv: [], stdout: false, stderr: false });
          this.#worker.once("message", () => {
            this.#started = true;
            this.#worker?.unref();
            resolve();
          });
          this.#worker.once("error", reject);
          this.#worker.on("message", (msg: WorkerReply | { ready: true }) => this.#onMessage(msg));
          this.#worker.on("error", (e) => this.#fail(new Error(`Infisical worker failed: ${e.message}`)));
          this.#worker.on("exit", () => this.#fail(new Error("Infisical worker stopped")));
        }),
    );
    this.#ready.catch(() => undefined);
  }

  #onMessage(msg: WorkerReply | { ready: true }): void {
    if (!("id" in msg)) return;
    const p = this.#pending.get(msg.id);
    this.#pending.delete(msg.id);
    if (this.#pending.size === 0) this.#worker?.unref();
    p?.resolve(msg);
  }

  get dead(): boolean {
    return this.#dead !== null;
  }

  /** The worker has loaded the SDK and answers calls (until then, a deadline must not kill it). */
  get started(): boolean {
    return this.#started && !this.#dead;
  }

  /** Starts the worker now (a fetch is coming); idempotent. */
  warm(): void {
    this.#ready.catch(() => undefined);
  }

  /** Runs one SDK call in the worker; nothing is sent once `signal` is aborted. */
  async call(op: Op, signal?: AbortSignal): Promise<WorkerReply> {
    if (this.#dead) throw this.#dead;
    await this.#ready;
    if (this.#dead) throw this.#dead;
    signal?.throwIfAborted();
    const id = this.#nextId++;
    const req = { id, ...op } as WorkerRequest;
    const worker = this.#worker!;
    worker.ref();
    return new Promise<WorkerReply>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.postMessage(req);
    });
  }

  async terminate(): Promise<void> {
    this.#fail(new Error("Infisical worker stopped"));
    await this.#worker?.terminate();
  }

  #fail(error: Error): void {
    this.#dead ??= error;
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
  }
}
