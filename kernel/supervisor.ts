import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { StringDecoder } from "node:string_decoder";
import { builtinProviders } from "../plugin/registry.js";
import { createStreamMasker, SecretMasker, type OutputMasker } from "../redaction/masker.js";
import type { KernelRequest, RunnerMessage, SupervisorMessage } from "./runner/protocol.js";

/** How long output may still arrive on the pipes after the kernel process exited. */
const DRAIN_MS = 300;
/** How long a stopped kernel may take to close before it is killed. */
const STOP_MS = 10_000;

/** The runner's entry: the compiled `.js`, or the `.ts` source under tsx (tests, checkouts). */
function runnerEntry(): string {
  const ext = import.meta.url.endsWith(".ts") ? "ts" : "js";
  return fileURLToPath(new URL(`./runner/main.${ext}`, import.meta.url));
}

/**
 * The supervisor: runs a kernel command (run, watch, serve) in a child process whose fd 1
 * and fd 2 are pipes read here through streaming maskers before anything reaches the
 * terminal. So every way a cell can write — `console`, `fs.writeSync(1, …)`, child processes
 * with inherited stdio, Node's fatal-error printer — is masked. The child gets the manager
 * credentials over IPC, never in its environment; it sends the values to mask over IPC and
 * waits for the acknowledgement before a cell can see them.
 */
export async function supervise(request: KernelRequest extends infer R ? (R extends KernelRequest ? Omit<R, "credentials" | "color"> : never) : never): Promise<number> {
  // 1. Credentials: read here, sent over IPC, removed from the child's environment.
  const providers = [...builtinProviders().values()];
  const names = new Set(providers.flatMap((p) => [...p.credentialNames]));
  // Shared credentials (AWS keys) stay in the environment for cells, but are masked too.
  const shared = providers.flatMap((p) => [...(p.sharedCredentialNames ?? [])]).map((n) => process.env[n]);
  const credentials: Record<string, string> = {};
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of names) {
    const value = env[name];
    if (value !== undefined) credentials[name] = value;
    delete env[name];
  }

  // 2. The masker: the credentials now, the kernel's secret values as they arrive. Values
  //    once masked stay masked for the life of the process.
  const masked = new Set([...Object.values(credentials), ...shared].filter((v): v is string => v !== undefined && v !== ""));
  let masker = new SecretMasker(masked);
  const current = () => masker;

  // 3. The kernel process: stdout/stderr piped through the maskers, IPC for the rest.
  const child = spawn(process.execPath, [...process.execArgv, runnerEntry()], { env, stdio: ["ignore", "pipe", "pipe", "ipc"] });
  const pipes = (["stdout", "stderr"] as const).map((name) => relay(child[name]!, process[name], createStreamMasker(current)));
  child.on("message", (message: RunnerMessage) => {
    if (message.t !== "mask") return;
    for (const v of message.values) masked.add(v);
    masker = new SecretMasker(masked, { previous: masker });
    child.send({ t: "masked", version: message.version } satisfies SupervisorMessage);
  });
  child.send({ t: "start", ...request, credentials, color: process.stdout.isTTY === true } as SupervisorMessage);

  // 4. Ctrl-C / SIGTERM: the kernel closes and exits; killed if it does not.
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    if (child.connected) child.send({ t: "stop" } satisfies SupervisorMessage);
    setTimeout(() => child.kill("SIGKILL"), STOP_MS).unref();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  try {
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (c, s) => resolve({ code: c, signal: s })));
    await Promise.all(pipes.map((p) => p.drain(DRAIN_MS)));
    if (code === null) {
      process.stderr.write(`strata-secrets: the kernel process was killed (${signal ?? "unknown signal"})\n`);
      return 1;
    }
    return code;
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
}

/** Copies a child's pipe to our stream through a masker; `drain` waits for its end (bounded). */
function relay(from: NodeJS.ReadableStream, to: NodeJS.WriteStream, masker: OutputMasker): { drain(ms: number): Promise<void> } {
  const decoder = new StringDecoder("utf8");
  let ended = false;
  const done = new Promise<void>((resolve) => {
    from.on("data", (chunk: Buffer) => {
      const text = masker.write(decoder.write(chunk));
      if (text) to.write(text);
    });
    from.on("end", () => {
      ended = true;
      resolve();
    });
    from.on("error", () => resolve());
  });
  return {
    async drain(ms) {
      // A grandchild that inherited the pipe may keep it open: wait a little, then stop reading.
      if (!ended) await Promise.race([done, new Promise((r) => setTimeout(r, ms))]);
      (from as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      const rest = masker.write(decoder.end()) + masker.flush();
      if (rest) to.write(rest);
    },
  };
}
