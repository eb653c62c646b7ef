export { createSecretManagerPlugin } from "./plugin.js";
export { ErrorCode, StrataSecretsError } from "./errors.js";
export { createInfisicalProvider, INFISICAL_CREDENTIALS, NO_CREDENTIALS_MESSAGE } from "./providers/infisical.js";
export { isSensitiveName, MASKED, SENSITIVE_SUBSTRINGS } from "../redaction/sensitive.js";
export type {
  CellRef,
  ConfigValue,
  EnvRow,
  FetchContext,
  FetchResult,
  InfisicalProviderOptions,
  OutputMasker,
  PluginEvent,
  PluginStatus,
  ProviderDescription,
  ProviderField,
  ProviderConfig,
  SecretManagerConfig,
  SecretManagerPlugin,
  SecretManagerPluginOptions,
  SecretProvider,
  WatchOptions,
} from "./types.js";
