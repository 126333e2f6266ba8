import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { type AddressInfo, connect, createServer as createNetServer, type Socket } from "node:net";
import type { TestServer } from "./server.ts";

/**
 * A real HTTP hop in front of the server that answers the first `refusals` requests itself with
 * `status` and Retry-After, then forwards the rest: an overloaded proxy, as connectors meet them.
 */
export async function flakyProxy(
  server: TestServer,
  refusals: number,
  status: number,
  retryAfter: string | null,
) {
  let seen = 0;
  const proxy: Server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    seen++;
    if (seen <= refusals) {
      res.writeHead(status, retryAfter === null ? {} : { "retry-after": retryAfter }).end("busy");
      return;
    }
    const upstream = await fetch(`${server.url}${req.url}`, {
      method: req.method,
      headers: {
        "content-type": String(req.headers["content-type"]),
        authorization: String(req.headers.authorization),
      },
      body: Buffer.concat(chunks),
    });
    res.writeHead(upstream.status, { "content-type": upstream.headers.get("content-type") ?? "" });
    res.end(Buffer.from(await upstream.arrayBuffer()));
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const { port } = proxy.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    seen: () => seen,
    close: () => new Promise<void>((resolve) => proxy.close(() => resolve())),
  };
}

/** A real TCP hop whose open connections can be cut, as a load balancer or a network blip does. */
export async function cuttableProxy(target: URL) {
  const sockets = new Set<Socket>();
  const proxy = createNetServer((inbound) => {
    const outbound = connect(Number(target.port), target.hostname);
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => {});
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  return {
    port: (proxy.address() as AddressInfo).port,
    cut: () => {
      for (const socket of sockets) socket.destroy();
    },
    close: () => new Promise<void>((resolve) => proxy.close(() => resolve())),
  };
}
