import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { WebhookVerificationError } from "plugboard/client";
import type { ChangeRecord } from "./output.ts";
import { type HookSubscription, perform } from "./webhookTrigger.ts";

/**
 * The platform's side of a webhook trigger: one URL per enabled trigger (`/hooks/<triggerId>`).
 * - no active trigger at that URL (turned off, or its unsubscribe never reached Plugboard): 410 Gone,
 *   which tells Plugboard to disable the webhook rather than retry it for days;
 * - a signature that does not verify: 401, and nothing runs;
 * - a delivery already handled (same webhook-id: a retry after a lost answer): 200, not run twice;
 * - otherwise the record goes to `onRecord` (the flow's next step) and the answer is 200.
 */
export class HookReceiver {
  private readonly triggers = new Map<string, HookSubscription>();
  private readonly handled = new Set<string>();
  private server: Server | null = null;
  baseUrl = "";

  constructor(private readonly onRecord: (triggerId: string, record: ChangeRecord) => void) {}

  urlFor(triggerId: string): string {
    return `${this.baseUrl}/hooks/${encodeURIComponent(triggerId)}`;
  }

  activate(triggerId: string, subscription: HookSubscription): void {
    this.triggers.set(triggerId, subscription);
  }

  deactivate(triggerId: string): void {
    this.triggers.delete(triggerId);
  }

  async listen(): Promise<void> {
    const server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const triggerId = decodeURIComponent(/^\/hooks\/([^/?]+)/.exec(req.url ?? "")?.[1] ?? "");
      const subscription = this.triggers.get(triggerId);
      if (!subscription) return void res.writeHead(410).end("gone");
      try {
        const { deliveryId, record } = perform(subscription, Buffer.concat(chunks), req.headers);
        const key = `${triggerId}:${deliveryId}`;
        if (record && !this.handled.has(key)) this.onRecord(triggerId, record);
        this.handled.add(key);
        res.writeHead(200).end("ok");
      } catch (error) {
        if (!(error instanceof WebhookVerificationError)) throw error;
        res.writeHead(401).end(error.reason);
      }
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
