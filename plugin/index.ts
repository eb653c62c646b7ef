export { createSecretManagerPlugin } from "./plugin.js";
export { MASKED } from "./env-model.js";
export { ErrorCode, StrataSecretsError } from "./errors.js";
export { createInfisicalProvider, NO_CREDENTIALS_MESSAGE } from "./providers/infisical.js";
export { isSensitiveName, SENSITIVE_SUBSTRINGS } from "../redaction/sensitive.js";
export type {
  CellRef,
  EnvRow,
  FetchContext,
  FetchResult,
  InfisicalProviderOptions,
  OutputMasker,
  PluginEvent,
  PluginStatus,
  SecretManagerConfig,
  SecretManagerPlugin,
  SecretManagerPluginOptions,
  SecretProvider,
  WatchOptions,
} from "./types.js";
