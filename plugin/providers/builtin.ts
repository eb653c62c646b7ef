// The providers every plugin has without configuration, one line each: adding a manager is
// its file plus a line here (or, from outside, `providers: { name: provider }`).
import type { SecretProvider } from "../types.js";
import { createAwsProvider } from "./aws.js";
import { createDopplerProvider } from "./doppler.js";
import { createFilesProvider } from "./files.js";
import { createInfisicalProvider } from "./infisical.js";
import { createVaultProvider } from "./vault.js";

/** Built-in providers, created per plugin (each holds its own token, client or watcher). */
export function builtinProviders(): Map<string, SecretProvider> {
  return new Map<string, SecretProvider>([
    ["infisical", createInfisicalProvider()],
    ["vault", createVaultProvider()],
    ["aws", createAwsProvider()],
    ["doppler", createDopplerProvider()],
    ["files", createFilesProvider()],
  ]);
}
