// The fixture Infisical server in a process of its own (argv[2]: its options as JSON),
// so that a benchmark's client and the server do not share a thread: the timings then
// include a real loopback round trip for the SDK alone and for the plugin alike.
import { startInfisicalServer, type InfisicalServerOptions } from "../fixtures/infisical-server/index.js";

const server = await startInfisicalServer(JSON.parse(process.argv[2]!) as InfisicalServerOptions);
process.stdout.write(`${server.url}\n`);
process.stdin.resume();
process.stdin.on("end", () => void server.close().then(() => process.exit(0)));
