#!/usr/bin/env node
// The `strata-secrets` command: npm links this file into node_modules/.bin (a symlink), so it
// runs the CLI unconditionally, then exits once stdout and stderr are flushed.
import { main } from "./cli/main.js";

const code = await main(process.argv.slice(2));
const drained = (stream: NodeJS.WriteStream) => new Promise<void>((done) => (stream.writableLength === 0 ? done() : stream.write("", () => done())));
await Promise.all([drained(process.stdout), drained(process.stderr)]);
process.exit(code);
