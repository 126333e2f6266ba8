import type { Logger } from "pino";
import type { Listen } from "../kernel/index.ts";
import { CHANGES_CHANNEL, type Sequencer } from "../ledger/index.ts";

/** Something to wake when a workspace's feed advances. */
export interface Wakeable {
  wake(): void;
}

/**
 * Wake-ups for subscribers: "workspace W's feed may have advanced to head H". It carries no payload;
 * woken subscribers read the feed (docs/architecture.md, invariant 2).
 *
 * Two sources: this process's sequencer (`advanced`), and — on PostgreSQL — LISTEN on the channel
 * every process's sequencer NOTIFYs, so writes through another `plugboard serve` process wake
 * subscribers here. Both usually report the same batch; the highest head seen per workspace
 * dedupes them. A slow poll of each workspace's feed tail (`observe`) covers lost notifications
 * (a dropped LISTEN connection): they delay subscribers but never stall them.
 */
export class Notifier {
  private readonly subscribers = new Map<string, Set<Wakeable>>();
  /** Woken on any workspace's advance (the webhook worker serves every workspace). */
  private readonly everywhere = new Set<Wakeable>();
  private readonly heads = new Map<string, number>();
  private unlisten: (() => Promise<void>) | null = null;

  constructor(
    private readonly sequencer: Sequencer,
    private readonly listen: Listen | undefined,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.sequencer.on("advanced", this.advanced);
    if (!this.listen) return;
    try {
      this.unlisten = await this.listen(CHANGES_CHANNEL, (payload) => {
        const message = parseNotification(payload);
        if (message) this.advanced(message.w, message.h);
      });
    } catch (error) {
      this.logger.error({ err: error }, "LISTEN failed; subscribers fall back to polling the feed");
    }
  }

  async stop(): Promise<void> {
    this.sequencer.off("advanced", this.advanced);
    const unlisten = this.unlisten;
    this.unlisten = null;
    await unlisten?.().catch(() => {});
  }

  /** The newest head this process has heard of for a workspace (0 when none yet). */
  head(workspaceId: string): number {
    return this.heads.get(workspaceId) ?? 0;
  }

  subscribe(workspaceId: string, subscriber: Wakeable): () => void {
    let set = this.subscribers.get(workspaceId);
    if (!set) {
      set = new Set();
      this.subscribers.set(workspaceId, set);
    }
    set.add(subscriber);
    return () => {
      set.delete(subscriber);
      if (set.size === 0 && this.subscribers.get(workspaceId) === set) this.subscribers.delete(workspaceId);
    };
  }

  /** Wakes `subscriber` whenever any workspace's feed advances, in this process or another. */
  subscribeAll(subscriber: Wakeable): () => void {
    this.everywhere.add(subscriber);
    return () => this.everywhere.delete(subscriber);
  }

  /** A head learnt by reading the feed (the poll that covers lost notifications). */
  observe(workspaceId: string, head: number): void {
    this.advanced(workspaceId, head);
  }

  private readonly advanced = (workspaceId: string, head: number): void => {
    if (head <= this.head(workspaceId)) return;
    this.heads.set(workspaceId, head);
    for (const subscriber of this.subscribers.get(workspaceId) ?? []) subscriber.wake();
    for (const subscriber of this.everywhere) subscriber.wake();
  };
}

function parseNotification(payload: string): { w: string; h: number } | null {
  try {
    const value = JSON.parse(payload) as { w?: unknown; h?: unknown };
    return typeof value.w === "string" && typeof value.h === "number" ? { w: value.w, h: value.h } : null;
  } catch {
    return null;
  }
}
