// The one HTTP transport the Infisical, Vault and Doppler providers share (node:http, not
// fetch): redirects, a body cut short, an abort mid-answer, idle keep-alive sockets.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { HttpError, NetworkError, requestJson } from "../plugin/providers/http-common.js";

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const s = createServer(handler);
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

const reason = (body: unknown, status: number) => `HTTP ${status}: ${JSON.stringify(body)}`;
const signal = () => new AbortController().signal;

describe("requestJson", () => {
  it("follows a same-origin 307 with its method, body and headers", async () => {
    const seen: string[] = [];
    const url = await serve((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        seen.push(`${req.method} ${req.url} ${req.headers.authorization} ${body}`);
        if (req.url === "/standby") res.writeHead(307, { location: "/active" }).end();
        else res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
      });
    });
    const answer = await requestJson(`${url}/standby`, { method: "POST", headers: { authorization: "Bearer t" }, body: '{"a":1}', signal: signal() }, reason);
    expect(answer.body).toEqual({ ok: true });
    expect(seen).toEqual(['POST /standby Bearer t {"a":1}', 'POST /active Bearer t {"a":1}']);
  });

  it("never follows a redirect to another origin (the bearer token would go with it)", async () => {
    let elsewhere = 0;
    const other = await serve((_req, res) => {
      elsewhere++;
      res.end("{}");
    });
    const url = await serve((_req, res) => res.writeHead(307, { location: `${other}/steal` }).end());
    const error = await requestJson(`${url}/x`, { headers: { authorization: "Bearer t" }, signal: signal() }, reason).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect((error as HttpError).status).toBe(307);
    expect(elsewhere).toBe(0);
  });

  it("a body cut short is a transient network error, not a parse crash", async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": "100" });
      res.write('{"secrets":');
      setImmediate(() => res.destroy());
    });
    const error = await requestJson(url, { signal: signal() }, reason).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect((error as NetworkError).fatal).toBe(false);
  });

  it("an abort in the middle of an answer rejects with the signal's reason at once", async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200);
      res.write("{");
    });
    const controller = new AbortController();
    const pending = requestJson(url, { signal: controller.signal }, reason);
    setTimeout(() => controller.abort(new Error("deadline")), 50);
    await expect(pending).rejects.toThrow("deadline");
  });

  it("an endless answer is cut off at 16 MiB (not read until memory runs out) and not retried", async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      const pump = () => {
        while (res.write(chunk)) if (res.destroyed) return;
        if (!res.destroyed) res.once("drain", pump);
      };
      res.on("close", () => res.removeAllListeners("drain"));
      pump();
    });
    const error = await requestJson(url, { signal: signal() }, reason).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(NetworkError); // not retried: the same server would send it again
    expect((error as Error).message).toBe(`the answer from ${url} is larger than 16 MiB`);
  });

  it("Retry-After in seconds reaches the error; non-JSON error bodies are kept as text", async () => {
    const url = await serve((_req, res) => res.writeHead(429, { "retry-after": "2" }).end("<html>slow down</html>"));
    const error = (await requestJson(url, { signal: signal() }, reason).catch((e: unknown) => e)) as HttpError;
    expect(error.retryAfterMs).toBe(2000);
    expect(error.body).toBe("<html>slow down</html>");
  });
});
