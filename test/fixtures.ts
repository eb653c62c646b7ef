import { test as base } from "vitest";
import type { InfisicalServer } from "../fixtures/infisical-server/index.js";
import { createSecretManagerPlugin, type PluginEvent, type SecretManagerPlugin, type SecretManagerPluginOptions } from "../plugin/index.js";
import { canariesIn, canaryFilesUnder, identityCredentials, startFixture, tempDir } from "./helpers.js";

/**
 * A deadline that a first fetch on a loaded 2-core machine (a cold connection, the first
 * login, an SDK import for AWS) cannot exceed. Tests about deadlines make the server slow instead.
 */
export const GENEROUS_MS = 20_000;

export interface PluginFixtures {
  /** The Infisical-compatible fixture server (default projects and identity); closed after. */
  server: InfisicalServer;
  /** A fresh notebook directory; after the test, no file under it may hold a canary. */
  dir: string;
  /** Events of every plugin made by `makePlugin`; checked for canaries after the test. */
  events: PluginEvent[];
  /** Anything else the test saw (errors, outputs, responses): checked for canaries after. */
  seen: unknown[];
  /**
   * Creates a plugin on `dir` with the fixture server's identity, no watcher and a
   * generous deadline; closed after the test, its rows and status checked for canaries.
   */
  makePlugin: (options?: Partial<SecretManagerPluginOptions>) => SecretManagerPlugin;
}

/**
 * The shared test fixture: server + temp dir + plugins. Cleanup always runs, also when the
 * test failed: plugins close first, then the canary sweeps, then the server and the dir go.
 */
export const test = base.extend<PluginFixtures>({
  server: async ({}, use) => {
    const server = await startFixture();
    try {
      await use(server);
    } finally {
      await server.close();
    }
  },
  dir: async ({}, use) => {
    const { dir, cleanup } = await tempDir();
    try {
      await use(dir);
      const leaked = await canaryFilesUnder(dir);
      if (leaked.length > 0) throw new Error(`canary found in files: ${leaked.join(", ")}`);
    } finally {
      await cleanup();
    }
  },
  events: async ({}, use) => {
    const events: PluginEvent[] = [];
    await use(events);
    const found = canariesIn(events);
    if (found.length > 0) throw new Error(`canary found in events: ${found.length} form(s)`);
  },
  seen: async ({}, use) => {
    const seen: unknown[] = [];
    await use(seen);
    const found = canariesIn(seen);
    if (found.length > 0) throw new Error(`canary found in what the test saw: ${found.length} form(s)`);
  },
  makePlugin: async ({ server, dir, events }, use) => {
    const made: SecretManagerPlugin[] = [];
    const problems: string[] = [];
    try {
      await use((options = {}) => {
        const p = createSecretManagerPlugin({
          notebookDir: dir,
          env: {},
          credentials: identityCredentials(server),
          watch: false,
          fetchTimeoutMs: GENEROUS_MS,
          onEvent: (e) => events.push(e),
          ...options,
        });
        made.push(p);
        return p;
      });
    } finally {
      for (const p of made) {
        if (canariesIn(p.rows()).length > 0) problems.push("rows");
        if (canariesIn(p.status()).length > 0) problems.push("status");
        await p.close();
      }
    }
    if (problems.length > 0) throw new Error(`canary found in plugin ${problems.join(", ")}`);
  },
});

export { expect, describe } from "vitest";

/**
 * Opens `p` and waits for a successful fetch, refreshing while the first ones miss a short
 * deadline (a first fetch on a loaded machine can take longer than a short deadline).
 */
export async function openFetched(p: SecretManagerPlugin, timeoutMs = 60_000): Promise<void> {
  await p.open();
  await refetched(p, timeoutMs);
}

/** Refreshes until a fetch succeeds (a short deadline can miss on a loaded machine). */
export async function refetched(p: SecretManagerPlugin, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (p.status().fetchError !== null || p.status().fetchedAt === null) {
    if (Date.now() > deadline) throw new Error(`no successful fetch within ${timeoutMs} ms: ${p.status().error}`);
    await p.refresh();
  }
}
