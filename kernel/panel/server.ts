import { randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { listenLoopback } from "../loopback.js";
import { StrataSecretsError } from "../../plugin/errors.js";
import type { ProviderDescription, SecretManagerConfig, SecretManagerPlugin } from "../../plugin/types.js";
import type { Kernel } from "../kernel.js";
import { cookie, HttpError, json, readJson, SECURITY_HEADERS } from "./http.js";
import { PAGE, SCRIPT } from "./page.js";

export interface PanelOptions {
  plugin: SecretManagerPlugin;
  kernel: Kernel;
  port?: number;
  /** Fixed access token (tests); default: 32 random bytes. */
  token?: string;
}

export interface Panel {
  /** The URL to open, with the access token. */
  url: string;
  origin: string;
  token: string;
  /** Call on every plugin event: pushes the new state to the page (server-sent events). */
  notify(): void;
  close(): Promise<void>;
}

const COOKIE = "strata_panel_token";

/**
 * The Runtime panel: a JSON API and one page on 127.0.0.1, guarded by a random token
 * (header, or a cookie the page sets from `?token=`), refusing foreign Host and Origin
 * headers (DNS rebinding, cross-site requests). No response carries a secret value.
 */
export async function startPanel(options: PanelOptions): Promise<Panel> {
  const { plugin, kernel } = options;
  const token = options.token ?? randomBytes(32).toString("hex");
  const streams = new Set<ServerResponse>();
  let origin = "";
  let hosts: string[] = [];
  let running: Promise<unknown> = Promise.resolve();
  const providers: ProviderDescription[] = await plugin.describeProviders();

  const state = () => {
    const status = plugin.status();
    return {
      stale: plugin.staleCells(),
      env: plugin.maskedEnv(),
      rows: plugin.rows(),
      revision: plugin.envRevision(),
      providers,
      secretManager: {
        config: plugin.secretManagerConfig(),
        provider: status.provider,
        fetchedAt: status.fetchedAt,
        error: status.error,
        configError: status.configError,
        fetchError: status.fetchError,
        notice: status.notice,
        fetching: status.fetching,
      },
    };
  };

  function authorized(req: IncomingMessage, url: URL): boolean {
    const given = [req.headers.authorization?.replace(/^Bearer\s+/i, ""), cookie(req, COOKIE), req.method === "GET" && url.pathname === "/" ? url.searchParams.get("token") : null];
    const want = Buffer.from(token);
    // Compared as bytes: a token of the right length in characters may have more bytes.
    return given.some((g) => {
      if (typeof g !== "string") return false;
      const bytes = Buffer.from(g);
      return bytes.length === want.length && timingSafeEqual(bytes, want);
    });
  }

  async function route(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const host = req.headers.host ?? "";
    if (!hosts.includes(host)) throw new HttpError(403, "Forbidden: unexpected Host header");
    const from = req.headers.origin;
    if (from !== undefined && from !== origin && from !== `http://localhost:${new URL(origin).port}`) throw new HttpError(403, "Forbidden: cross-origin request");
    if (!authorized(req, url)) throw new HttpError(401, "Unauthorized: open the URL with ?token= printed at start");
    const key = `${req.method} ${url.pathname}`;
    if (key === "GET /favicon.ico") {
      res.writeHead(204, SECURITY_HEADERS);
      res.end();
      return;
    }
    switch (key) {
      case "GET /": {
        const headers: Record<string, string> = { ...SECURITY_HEADERS, "content-type": "text/html; charset=utf-8" };
        if (url.searchParams.has("token")) {
          headers["set-cookie"] = `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`;
          res.writeHead(303, { ...headers, location: "/" });
          res.end();
          return;
        }
        res.writeHead(200, headers);
        res.end(PAGE);
        return;
      }
      case "GET /app.js":
        res.writeHead(200, { ...SECURITY_HEADERS, "content-type": "text/javascript; charset=utf-8" });
        res.end(SCRIPT);
        return;
      case "GET /api/state":
        return json(res, 200, state());
      case "PUT /api/env": {
        const body = await readJson(req);
        const env = (body as { env?: unknown }).env;
        if (!env || typeof env !== "object" || Array.isArray(env)) throw new HttpError(400, "Expected { env: { NAME: value } }");
        const revision = (body as { revision?: unknown }).revision;
        if (revision !== undefined && !Number.isInteger(revision)) throw new HttpError(400, "revision must be an integer");
        // Names and values are checked by saveEnv (INVALID_ARGUMENT -> 400): one rule for both.
        // A save based on an outdated revision is refused (CONFLICT -> 409, with the current state).
        await plugin.saveEnv(env as Record<string, string>, revision === undefined ? {} : { basedOn: revision as number });
        return json(res, 200, state());
      }
      case "PUT /api/secret-manager": {
        const body = (await readJson(req)) as Record<string, unknown>;
        const config: SecretManagerConfig = {};
        for (const [k, v] of Object.entries(body)) {
          if (v === null) continue;
          if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") throw new HttpError(400, `'${k}' must be a string, a number or a boolean`);
          config[k] = v;
        }
        // Trimmed, emptied and checked against the provider's schema by the plugin (-> 400);
        // nothing left at all disconnects.
        await plugin.saveSecretManagerConfig(config);
        return json(res, 200, state());
      }
      case "POST /api/secret-manager/refresh":
        await plugin.refresh();
        return json(res, 200, state());
      case "POST /api/run":
      case "POST /api/run-stale": {
        // Re-run stale cells: only those that ran with a value that has since changed, in notebook order.
        const stale = key === "POST /api/run-stale" ? new Set(plugin.staleCells().map((c) => c.id)) : null;
        const run = running.then(() => kernel.runAll({ keepGoing: true, ...(stale ? { only: (cell: { id: string }) => stale.has(cell.id) } : {}) }));
        running = run.catch(() => undefined);
        const results = await run;
        return json(res, 200, { cells: results.map((r) => ({ id: r.id, ok: r.ok, stdout: r.stdout, stderr: r.stderr, ...(r.error !== undefined ? { error: r.error } : {}) })), state: state() });
      }
      case "GET /api/events": {
        res.writeHead(200, { ...SECURITY_HEADERS, "content-type": "text/event-stream", connection: "keep-alive" });
        res.write(`event: state\ndata: ${JSON.stringify(state())}\n\n`);
        streams.add(res);
        req.on("close", () => streams.delete(res));
        return;
      }
      default:
        throw new HttpError(404, "Not found");
    }
  }

  // One error boundary around every request: nothing a client sends can throw past it.
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      let url: URL;
      try {
        url = new URL(req.url ?? "/", "http://127.0.0.1");
      } catch {
        throw new HttpError(400, "Bad request: malformed URL");
      }
      await route(req, res, url);
    } catch (error) {
      const code = error instanceof StrataSecretsError ? error.code : null;
      const status = error instanceof HttpError ? error.status : code === "INVALID_ARGUMENT" ? 400 : code === "CONFLICT" ? 409 : 500;
      const message = plugin.maskOutput(error instanceof Error ? error.message : String(error));
      if (!res.headersSent && !res.destroyed) json(res, status, code === "CONFLICT" ? { error: message, state: state() } : { error: message });
      else res.destroy();
    }
  }

  // What Node's HTTP parser itself rejects (bad request lines, headers) gets a 400 there.
  const server = await listenLoopback(handle, (res) => res.destroy(), options.port);
  const port = server.port;
  origin = server.url;
  hosts = [`127.0.0.1:${port}`, `localhost:${port}`];

  let pending: NodeJS.Timeout | null = null;
  let closing: Promise<void> | null = null;
  return {
    url: `${origin}/?token=${token}`,
    origin,
    token,
    notify() {
      if (pending || streams.size === 0) return;
      // Events come in small bursts (reload, fetch started, fetched): one frame per burst.
      pending = setTimeout(() => {
        pending = null;
        const frame = `event: state\ndata: ${JSON.stringify(state())}\n\n`;
        for (const s of streams) s.write(frame);
      }, 15);
    },
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        if (pending) clearTimeout(pending);
        for (const s of streams) s.end();
        void server.close().then(resolve);
      })),
  };
}
