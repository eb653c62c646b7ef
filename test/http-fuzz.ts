import { connect } from "node:net";
// The same seeded PRNG as the benchmarks' corpus: the same fuzz run every time.
import { prng } from "../bench/corpus.js";

const LINES = [
  "GET //[ HTTP/1.1",
  "GET http://[::1 HTTP/1.1",
  "GET http://[::1]:1/api/state HTTP/1.1",
  "GET /%ZZ%%/api HTTP/1.1",
  "GET /api/state?token=%E0%A4%A HTTP/1.1",
  "GET / HTTP/9.9",
  "BREW /api/state HTTP/1.1",
  "GET",
  "\u0000\u0001\u0002 / HTTP/1.1",
  "GET /api/state HTTP/1.1 extra",
  "PUT /api/env HTTP/1.1",
  "PUT /api/secret-manager HTTP/1.1",
  "POST /api/secret-manager/refresh HTTP/1.1",
  "GET /api/events HTTP/1.1",
  "DELETE /api/env HTTP/1.1",
  `GET /${"a".repeat(20_000)} HTTP/1.1`,
  "GET /?token=é HTTP/1.1",
  "OPTIONS * HTTP/1.1",
  "CONNECT 127.0.0.1:1 HTTP/1.1",
];

const BODIES = ["{", "[]", "null", '"x"', '{"env": {"A": {"x": 1}}}', '{"env": {"1BAD": "x"}}', '{"env": {"A": "a\\u0000b"}}', '{"provider": ["x"]}', '{"provider": {"a": 1}}', '{"provider": "infisical", "path": "/a\\nb"}', '{"env": null}', "\u00ff\u00fe invalid", "x".repeat(1_200_000)];

/**
 * A few hundred malformed HTTP requests: broken request lines, headers and bodies, tokens of
 * the right length in characters but not in bytes, the right token on broken requests.
 */
export function malformedRequests(host: string, token: string, count = 300, seed = 7): (string | Buffer)[] {
  const rand = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const tokens = [token, "é".repeat(token.length / 2), "x".repeat(token.length), "\u00ff".repeat(token.length), `${token.slice(0, -1)}\u0100`, ""];
  const out: (string | Buffer)[] = [Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00]), "\r\n\r\n", "GET //[ HTTP/1.1\r\n\r\n"];
  for (let i = out.length; i < count; i++) {
    const headers = [`Host: ${rand() < 0.85 ? host : pick(["evil.test", "", "[::1", "127.0.0.1:1"])}`];
    if (rand() < 0.7) headers.push(`Authorization: Bearer ${pick(tokens)}`);
    if (rand() < 0.15) headers.push("X-Broken-Header-Without-Colon");
    if (rand() < 0.1) headers.push("Bad\u0000Name: v");
    if (rand() < 0.1) headers.push(`Cookie: strata_panel_token=${pick(tokens)}; =;;`);
    const body = rand() < 0.5 ? pick(BODIES) : "";
    if (body) {
      if (rand() < 0.2) headers.push("Transfer-Encoding: chunked", "Content-Length: 3");
      else headers.push(`Content-Length: ${rand() < 0.2 ? "-1" : rand() < 0.1 ? "abc" : Buffer.byteLength(body)}`);
      headers.push(`Content-Type: ${pick(["application/json", "text/plain", "application/json; charset=latin1"])}`);
    }
    out.push(`${pick(LINES)}\r\n${headers.join("\r\n")}\r\nConnection: close\r\n\r\n${body}`);
  }
  return out;
}

/** Sends raw bytes; resolves with the status code of the answer (0: closed without one). */
export function sendRaw(port: number, data: string | Buffer, timeoutMs = 5_000): Promise<number> {
  return new Promise((resolve) => {
    let text = "";
    const socket = connect(port, "127.0.0.1", () => socket.end(data));
    const timer = setTimeout(() => socket.destroy(), timeoutMs);
    socket.on("data", (d: Buffer) => (text += d.toString("latin1")));
    socket.on("error", () => undefined);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0));
    });
  });
}

/** Sends every request, `parallel` at a time; returns the statuses in order. */
export async function fuzz(port: number, requests: (string | Buffer)[], parallel = 8): Promise<number[]> {
  const statuses: number[] = new Array(requests.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < requests.length) {
        const i = next++;
        statuses[i] = await sendRaw(port, requests[i]!);
      }
    }),
  );
  return statuses;
}
