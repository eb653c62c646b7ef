/** Error codes, alphabetical. */
export const ErrorCode = {
  ALREADY_CLOSED: "ALREADY_CLOSED",
  CONFLICT: "CONFLICT",
  INVALID_ARGUMENT: "INVALID_ARGUMENT",
  INVALID_CONFIG: "INVALID_CONFIG",
  NOT_OPEN: "NOT_OPEN",
  WRITE_FAILED: "WRITE_FAILED",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The one error class of strata-secrets. Messages never contain a secret value. */
export class StrataSecretsError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, { cause: options?.cause ?? null });
    this.name = "StrataSecretsError";
    this.code = code;
  }
}
