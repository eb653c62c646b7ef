// A loopback HTTP server no request can crash, shared by the Runtime panel and the
// manager fixture servers (the dev server): a handler that throws gets `failed(res)`, what
// Node's HTTP parser rejects (bad request lines, headers) a bare 400, and close() also
// drops kept-alive connections (and server-sent event streams).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";

/**
 * Listens on 127.0.0.1 (`port`, or an ephemeral one). A request whose handler throws gets
 * `failed(res)` when nothing was sent yet, else its connection is closed.
 */
export async function listenLoopback(
  serve: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  failed: (res: ServerResponse) => void,
  port = 0,
): Promise<{ url: string; port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    serve(req, res).catch(() => {
      if (!res.headersSent && !res.destroyed) failed(res);
      else res.destroy();
    });
  });
  server.on("clientError", (_error, socket) => {
    if (socket.writable && !socket.destroyed) socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
    else socket.destroy();
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const bound = typeof address === "object" && address ? address.port : 0;
  let closing: Promise<void> | null = null;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      })),
  };
}
