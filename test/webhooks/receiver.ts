import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  payload: { type: string; timestamp: string; webhookId: string; data: Record<string, unknown> };
  at: number;
}

export type Responder = (request: Received, index: number) => number | "hang" | Promise<number | "hang">;

/**
 * A real HTTP receiver on loopback. Every request is verified with the `standardwebhooks` package
 * against each secret it holds (at least one must verify); unverifiable requests are kept apart.
 */
export class Receiver {
  readonly received: Received[] = [];
  readonly unverified: Received[] = [];
  private server: Server | null = null;
  private waiters: { count: number; resolve: () => void }[] = [];
  secrets: string[] = [];
  url = "";

  constructor(private respond: Responder = () => 200) {}

  static async start(respond?: Responder): Promise<Receiver> {
    const receiver = new Receiver(respond);
    await receiver.listen();
    return receiver;
  }

  setResponder(respond: Responder): void {
    this.respond = respond;
  }

  private listen(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", async () => {
        const body = Buffer.concat(chunks).toString("utf8");
        const entry: Received = { headers: req.headers, body, payload: JSON.parse(body), at: Date.now() };
        const verified = this.secrets.some((secret) => {
          try {
            new Webhook(secret).verify(body, {
              "webhook-id": String(req.headers["webhook-id"]),
              "webhook-timestamp": String(req.headers["webhook-timestamp"]),
              "webhook-signature": String(req.headers["webhook-signature"]),
            });
            return true;
          } catch {
            return false;
          }
        });
        (verified ? this.received : this.unverified).push(entry);
        const index = this.received.length + this.unverified.length - 1;
        const status = await this.respond(entry, index);
        this.waiters = this.waiters.filter((w) => {
          if (this.received.length + this.unverified.length >= w.count) w.resolve();
          return this.received.length + this.unverified.length < w.count;
        });
        if (status === "hang") return; // never answer; the sender's timeout must fire
        res.writeHead(status, { "content-type": "text/plain" }).end(`answer ${status}`);
      });
    });
    const server = this.server;
    return new Promise((resolve) =>
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo;
        this.url = `http://127.0.0.1:${port}/hook`;
        resolve();
      }),
    );
  }

  /** Resolves once `count` requests (verified or not) have arrived; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs = 10_000): Promise<void> {
    if (this.received.length + this.unverified.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`expected ${count} requests, got ${this.received.length + this.unverified.length}`),
          ),
        timeoutMs,
      );
      this.waiters.push({
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The receivers a test file starts, closed together in its `afterAll`. */
export function receiverPool() {
  const started: Receiver[] = [];
  return {
    receiver: async (respond?: Responder): Promise<Receiver> => {
      const r = await Receiver.start(respond);
      started.push(r);
      return r;
    },
    closeAll: () => Promise.all(started.map((r) => r.close())),
  };
}
