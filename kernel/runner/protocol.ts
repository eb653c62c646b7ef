// Messages between the supervisor (the CLI process) and the kernel runner (the process that
// runs the cells), over Node's IPC channel. Values to mask cross it; nothing else secret does.

/** What the kernel process is asked to run. */
export type KernelRequest =
  | { command: "run"; dir: string; json: boolean; keepGoing: boolean; timeoutMs: number; credentials: Record<string, string>; color: boolean }
  | { command: "watch"; dir: string; rerun: boolean; rerunStale: boolean; credentials: Record<string, string>; color: boolean }
  | { command: "serve"; dir: string; port: number | undefined; credentials: Record<string, string>; color: boolean };

/** Supervisor -> runner. */
export type SupervisorMessage =
  | ({ t: "start" } & KernelRequest)
  /** The supervisor masks every value of this version now. */
  | { t: "masked"; version: number }
  /** Ctrl-C / SIGTERM: close and exit. */
  | { t: "stop" };

/** Runner -> supervisor. */
export type RunnerMessage = { t: "mask"; version: number; values: readonly string[] };
