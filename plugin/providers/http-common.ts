// What the HTTP-API providers (Infisical, Vault, Doppler) and the AWS provider share: the
// rules common to every manager (values that are not strings, base_url pinning, credentials
// kept out of messages) and one retrying JSON request over node:http(s) that stops with the
// plugin's signal.
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import type { FetchContext, FetchResult } from "../types.js";
import { networkCause, unreachable } from "./network-errors.js";

type Credentials = Readonly<Record<string, string | undefined>>;

/**
 * A manager's key/value map as variables: strings as they are, numbers and booleans as
 * their string form (Terraform's jsonencode writes {"PORT": 5432}); objects, arrays and
 * null are refused for that key only, with the reason.
 */
export function normalizeValues(values: Record<string, unknown>, manager: string): { secrets: Record<string, string>; refused: Record<string, string> } {
  const secrets: Record<string, string> = {};
  const refused: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    if (typeof value === "string") secrets[key] = value;
    else if (typeof value === "number" || typeof value === "boolean") secrets[key] = String(value);
    else {
      const kind = value === null ? "null" : Array.isArray(value) ? "an array" : "an object";
      refused[key] = `${manager} holds ${kind} under this key; only strings, numbers and booleans become variables`;
    }
  }
  return { secrets, refused };
}

/** An http(s) origin without trailing slashes, or a thrown configuration error naming `variable`. */
export function normalizeHost(manager: string, variable: string, url: string): string {
  const host = url.trim().replace(/\/+$/, "");
  if (!/^https?:\/\/[^/]/i.test(host)) {
    throw new Error(`${manager} configuration error: ${variable} (${host}) must start with http:// or https://.`);
  }
  return host;
}

/**
 * `[secret_manager].base_url`, when given, must be the host the kernel's credentials go to:
 * a notebook cannot send them elsewhere.
 */
export function checkBaseUrl(manager: string, variable: string, baseUrl: unknown, host: string): void {
  if (baseUrl === undefined) return;
  const given = String(baseUrl).trim().replace(/\/+$/, "");
  if (given !== host) {
    throw new Error(
      `Refused: [secret_manager].base_url (${given}) is not the ${manager} host this kernel uses (${variable} = ${host}); ` +
        `sending the kernel's credentials there could leak them. Set ${variable} in the shell that launched Strata, or remove base_url.`,
    );
  }
}

/** No credential value survives in a message, even if a server echoes one. */
export function redact(message: string, credentials: Credentials, names: readonly string[]): string {
  let out = message;
  for (const name of names) {
    const value = credentials[name];
    if (value && value.length >= 4) out = out.split(value).join("***");
  }
  return out;
}

/** An answer that is not a success: its status, the manager's reason, and Retry-After in ms. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly retryAfterMs: number | null,
    readonly body: unknown,
  ) {
    super(reason);
  }
}

/** The request never got an answer (refused, reset, timed out, TLS). */
export class NetworkError extends Error {
  constructor(
    message: string,
    readonly fatal: boolean,
  ) {
    super(message);
  }
}

export interface JsonAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export interface RequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  signal: AbortSignal;
}

interface Exchange {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

let https: Promise<typeof import("node:https")> | undefined;

/** No manager's answer for one notebook comes near this; a server streaming more is cut off. */
export const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

class AnswerTooLarge extends Error {}

/**
 * One request over node:http(s). Not `fetch`: its first call loads undici (~50 ms, most of a
 * first fetch on loopback), and it follows redirects to other hosts. Here a redirect is
 * followed only on the same origin (307/308, a Vault standby), at most 3 times; connections
 * are kept alive by Node's global agent (idle sockets never hold the process open).
 */
async function exchange(url: string, init: RequestInit, redirects = 0): Promise<Exchange> {
  const target = new URL(url);
  const send = target.protocol === "https:" ? (await (https ??= import("node:https"))).request : httpRequest;
  init.signal.throwIfAborted();
  const headers: Record<string, string> = { ...init.headers };
  if (init.body !== undefined) headers["content-length"] = String(Buffer.byteLength(init.body));
  const answer = await new Promise<Exchange>((resolve, reject) => {
    const onAbort = () => {
      req.destroy();
      reject(init.signal.reason);
    };
    const req = send(target, { method: init.method ?? "GET", headers }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_ANSWER_BYTES) chunks.push(chunk);
        else {
          req.destroy();
          fail(new AnswerTooLarge());
        }
      });
      res.on("error", fail);
      res.on("end", () => {
        init.signal.removeEventListener("abort", onAbort);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") });
      });
      // A connection dropped in the middle of the body.
      res.on("aborted", () => fail(Object.assign(new Error("the connection closed before the answer was complete"), { code: "ECONNRESET" })));
    });
    function fail(error: unknown) {
      init.signal.removeEventListener("abort", onAbort);
      reject(error);
    }
    req.on("error", fail);
    init.signal.addEventListener("abort", onAbort, { once: true });
    req.end(init.body);
  });
  const location = answer.headers.location;
  if ((answer.status === 307 || answer.status === 308) && location && redirects < 3) {
    const next = new URL(location, target);
    if (next.origin === target.origin) return exchange(next.href, init, redirects + 1);
  }
  return answer;
}

/**
 * One HTTP request; a non-2xx answer throws HttpError with `reason(body)`, a failure to reach
 * the host throws NetworkError naming it. Non-JSON bodies (an HTML 503 from an edge proxy)
 * are kept as text, never parsed into a crash.
 */
export async function requestJson(url: string, init: RequestInit, reason: (body: unknown, status: number) => string): Promise<JsonAnswer> {
  let res: Exchange;
  try {
    res = await exchange(url, init);
  } catch (error) {
    init.signal.throwIfAborted();
    // Not a network failure and not worth another try: the same server would send it again.
    if (error instanceof AnswerTooLarge) throw new Error(`the answer from ${new URL(url).origin} is larger than ${MAX_ANSWER_BYTES / 1024 / 1024} MiB`);
    const cause = networkCause(error);
    if (cause) throw new NetworkError(unreachable(url, cause), cause.fatal);
    throw new NetworkError(`cannot reach ${new URL(url).origin}: ${(error as Error).message}`, false);
  }
  let body: unknown = res.text;
  try {
    body = res.text === "" ? null : JSON.parse(res.text);
  } catch {
    // not JSON: kept as text
  }
  if (res.status >= 200 && res.status < 300) return { status: res.status, headers: res.headers, body };
  const after = res.headers["retry-after"];
  throw new HttpError(res.status, reason(body, res.status), retryAfter(typeof after === "string" ? after : null), body);
}

/** Retry-After (seconds or an HTTP date) in ms, or null. */
function retryAfter(value: string | null): number | null {
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}

/** 429, 5xx and a dropped connection are worth another try; a TLS failure is not. */
export function isTransient(error: unknown): boolean {
  if (error instanceof HttpError) return error.status === 429 || error.status >= 500;
  if (error instanceof NetworkError) return !error.fatal;
  return false;
}

export interface RetryOptions {
  signal: AbortSignal;
  /** Retries after the first attempt (default 2). */
  retries: number;
  /** First back-off delay, doubled each time (Retry-After wins when the answer has one). */
  minTimeoutMs: number;
}

/** Runs `attempt` until it succeeds, fails for good, or the signal aborts (the deadline). */
export async function withRetries<T>(attempt: () => Promise<T>, options: RetryOptions): Promise<T> {
  for (let n = 0; ; n++) {
    options.signal.throwIfAborted();
    try {
      return await attempt();
    } catch (error) {
      if (n >= options.retries || !isTransient(error) || options.signal.aborted) throw error;
      const hinted = error instanceof HttpError ? error.retryAfterMs : null;
      await sleep(hinted ?? options.minTimeoutMs * 2 ** n, options.signal);
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    timer.unref();
    function done() {
      signal.removeEventListener("abort", aborted);
      resolve();
    }
    function aborted() {
      clearTimeout(timer);
      reject(signal.reason);
    }
    signal.addEventListener("abort", aborted, { once: true });
  });
}

/** A non-negative integer option of a provider factory, or a TypeError naming it. */
export function countOption(factory: string, option: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0) throw new TypeError(`${factory}: \`${option}\` must be an integer >= 0`);
  return value;
}

/** A FetchResult's time stamp. */
export const now = (): string => new Date().toISOString();

/**
 * A fetch that threw, as its result: "cancelled" when the signal stopped it, else the
 * message — under `wrap` unless it is already one of the manager's own (`own`) — with no
 * credential value in it.
 */
export function failedFetch(error: unknown, ctx: FetchContext, manager: { own: RegExp; wrap: string; credentials: readonly string[] }): FetchResult {
  if (ctx.signal.aborted) return { secrets: {}, fetchedAt: now(), error: "The fetch was cancelled." };
  const message = (error as Error).message;
  const text = manager.own.test(message) ? message : `${manager.wrap}: ${message}`;
  return { secrets: {}, fetchedAt: now(), error: redact(text, ctx.credentials, manager.credentials) };
}
