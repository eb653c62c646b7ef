// The kernel process of the `strata-secrets` command: started by the supervisor
// (kernel/supervisor.ts) with an IPC channel; runs one command and exits.
import { CliError, UsageError } from "../cli/args.js";
import { runKernel, serveKernel, watchKernel, type RunnerContext } from "./commands.js";
import type { MaskSync } from "./mask-sync.js";
import type { RunnerMessage, SupervisorMessage } from "./protocol.js";

if (!process.send) {
  process.stderr.write("strata-secrets: this is the kernel process of the strata-secrets command; run `strata-secrets` instead\n");
  process.exit(2);
}

const send = (message: RunnerMessage) => void process.send?.(message);
let masks: MaskSync | null = null;
let stop!: () => void;
const stopped = new Promise<void>((resolve) => (stop = resolve));
// Ctrl-C in a terminal reaches both processes: here it means "close", like the supervisor's stop.
process.on("SIGINT", () => stop());
process.on("SIGTERM", () => stop());
// Without the supervisor nothing masks this process's output any more: end.
process.on("disconnect", () => process.exit(1));

const start = await new Promise<Extract<SupervisorMessage, { t: "start" }>>((resolve) => {
  process.on("message", (message: SupervisorMessage) => {
    if (message.t === "start") resolve(message);
    else if (message.t === "masked") masks?.acked(message.version);
    else if (message.t === "stop") stop();
  });
});

const ctx: RunnerContext = { send, stopped, onMasks: (m) => (masks = m) };
let code: number;
try {
  code = start.command === "run" ? await runKernel(start, ctx) : start.command === "watch" ? await watchKernel(start, ctx) : await serveKernel(start, ctx);
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`strata-secrets: ${message}\n`);
  code = error instanceof UsageError ? 2 : error instanceof CliError ? error.exitCode : 1;
}
// Ends the process now: timers or servers a cell left behind never outlive the command,
// and nothing it prints later could go unmasked.
const drained = (stream: NodeJS.WriteStream) => new Promise<void>((done) => (stream.writableLength === 0 ? done() : stream.write("", () => done())));
await Promise.all([drained(process.stdout), drained(process.stderr)]);
process.exit(code);
