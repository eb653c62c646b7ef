/** Network failures that mean "this host cannot be used", in plain words. */
const HOST_CODES: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name lookup failed",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ETIMEDOUT: "connection timed out",
  UND_ERR_CONNECT_TIMEOUT: "connection timed out",
};

/** TLS failures: retrying cannot help. */
const TLS_CODES: Record<string, string> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "TLS certificate not trusted",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "TLS certificate not trusted",
  SELF_SIGNED_CERT_IN_CHAIN: "TLS certificate not trusted (self-signed)",
  DEPTH_ZERO_SELF_SIGNED_CERT: "TLS certificate not trusted (self-signed)",
  CERT_HAS_EXPIRED: "TLS certificate expired",
  ERR_TLS_CERT_ALTNAME_INVALID: "TLS certificate is for another host name",
  ERR_SSL_WRONG_VERSION_NUMBER: "TLS handshake failed (is it http, not https?)",
  EPROTO: "TLS handshake failed",
};

export interface NetworkCause {
  code: string;
  words: string;
  /** TLS: retrying cannot help. */
  fatal: boolean;
}

/** The host-level cause of a failed request (walking `error.cause`), or null for other errors. */
export function networkCause(error: unknown): NetworkCause | null {
  for (let e = error as { code?: unknown; cause?: unknown } | null, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    let code = typeof e.code === "string" ? e.code : "";
    // node:https reports OpenSSL's reason only in the message ("write EPROTO …:wrong version number:…").
    if (code === "EPROTO" && /wrong version number/.test(String((e as { message?: unknown }).message))) code = "ERR_SSL_WRONG_VERSION_NUMBER";
    const tls = TLS_CODES[code];
    if (tls) return { code, words: tls, fatal: true };
    const host = HOST_CODES[code];
    if (host) return { code, words: host, fatal: false };
    if (Array.isArray((e as { errors?: unknown }).errors)) {
      // AggregateError (IPv4 + IPv6 attempts): the first host-level cause.
      for (const inner of (e as { errors: unknown[] }).errors) {
        const c = networkCause(inner);
        if (c) return c;
      }
    }
  }
  return null;
}

/** "cannot reach https://host: connection refused (ECONNREFUSED)" */
export function unreachable(url: string, cause: NetworkCause): string {
  let origin = url;
  try {
    origin = new URL(url).origin;
  } catch {
    // keep what was given
  }
  return `cannot reach ${origin}: ${cause.words} (${cause.code})`;
}
