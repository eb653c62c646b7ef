export { createSecretManagerPlugin } from "./plugin.js";
export { ErrorCode, StrataSecretsError } from "./errors.js";
export { createInfisicalProvider, INFISICAL_CREDENTIALS, NO_CREDENTIALS_MESSAGE } from "./providers/infisical.js";
export { createVaultProvider, VAULT_CREDENTIALS, type VaultProviderOptions } from "./providers/vault.js";
export { createAwsProvider, AWS_CREDENTIALS, type AwsProviderOptions } from "./providers/aws.js";
export { createDopplerProvider, DOPPLER_CREDENTIALS, type DopplerProviderOptions } from "./providers/doppler.js";
export { createFilesProvider, type FilesProviderOptions } from "./providers/files.js";
export { isSensitiveName, MASKED, SENSITIVE_SUBSTRINGS } from "../redaction/sensitive.js";
export type {
  CellProvenance,
  CellRead,
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
  StaleCell,
  WatchOptions,
} from "./types.js";
