import { and, desc, eq, inArray, lt, sql } from "drizzle-orm";
import { type Actor, isAdminRole, requireScope } from "../auth/index.ts";
import type { Db, Env } from "../kernel/index.ts";
import { fail, idKind, newId } from "../kernel/index.ts";
import {
  type ChangeFeed,
  type ChangeFilter,
  MATCH_NOTHING,
  mergeActorSets,
  parseCursor,
  selfExclusion,
} from "../ledger/index.ts";
import type { CatalogStore } from "../metadata/index.ts";
import { creatorActor } from "./creator.ts";
import { newSecret } from "./signing.ts";
import {
  type AttemptRow,
  type DeliveryRow,
  type StoredFilter,
  type WebhookRow,
  webhookAttempts,
  webhookDeliveries,
  webhooks,
} from "./tables.ts";
import { checkTarget } from "./targets.ts";
import { CREATOR_LEFT } from "./worker.ts";

export type DeliveryStatus = DeliveryRow["status"];
export interface DeliveryWithAttempts extends DeliveryRow {
  attempts: AttemptRow[];
}
export interface DeliveryPage {
  nodes: DeliveryWithAttempts[];
  hasNextPage: boolean;
  endCursor: string | null;
}

const MAX_DESCRIPTION = 1000;
const MAX_OVERLAP_SECONDS = 30 * 86_400;
const MAX_DELIVERIES_PAGE = 100;
/** What `newId("delivery")` makes: the prefix and 26 Crockford base32 characters. */
const DELIVERY_ID = /^[a-z]+_[0-9a-z]{26}$/;

/**
 * Webhook set-up and tear-down. Any member may create one; members see and manage their own,
 * owners and admins every webhook of the workspace. A webhook someone may not see behaves like one
 * that does not exist (null / NOT_FOUND).
 */
export class WebhookService {
  constructor(
    private readonly db: Db,
    private readonly env: Env,
    private readonly catalogs: CatalogStore,
    private readonly feed: ChangeFeed,
    /** Wakes the local delivery worker (a ping, a redelivery or a replay is due now). */
    private readonly wake: () => void,
  ) {}

  private visibleTo(actor: Actor) {
    const scope = eq(webhooks.workspaceId, actor.workspaceId);
    return isAdminRole(actor.role) ? scope : and(scope, eq(webhooks.createdById, actor.memberId));
  }

  async list(actor: Actor): Promise<WebhookRow[]> {
    requireScope(actor, "READ");
    return this.db
      .select()
      .from(webhooks)
      .where(this.visibleTo(actor))
      .orderBy(webhooks.createdAt, webhooks.id);
  }

  async get(actor: Actor, id: string): Promise<WebhookRow | null> {
    requireScope(actor, "READ");
    const [row] = await this.db
      .select()
      .from(webhooks)
      .where(and(eq(webhooks.id, id), this.visibleTo(actor)));
    return row ?? null;
  }

  private async require(actor: Actor, id: string): Promise<WebhookRow> {
    const row = await this.get(actor, id);
    if (!row) throw fail.notFound(`No webhook with id ${JSON.stringify(id)}.`);
    return row;
  }

  /** Checks a filter against what the caller can read and stores it with every list present. */
  private async checkFilter(actor: Actor, filter: ChangeFilter | null | undefined): Promise<StoredFilter> {
    const catalog = await this.catalogs.get(actor.workspaceId);
    this.feed.resolveFilter(catalog, actor, filter, "filter");
    const excludeActors = filter?.excludeSelf
      ? mergeActorSets(filter.excludeActors, selfExclusion(actor))
      : (filter?.excludeActors ?? null);
    return {
      types: filter?.types ?? [],
      kinds: filter?.kinds ?? [],
      fields: filter?.fields ?? [],
      resourceIds: filter?.resourceIds ?? [],
      where: filter?.where ?? null,
      transitions: filter?.transitions ?? [],
      excludeActors,
      origins: filter?.origins ?? [],
      excludeOrigins: filter?.excludeOrigins ?? [],
    };
  }

  private checkDescription(description: string | null | undefined): void {
    if (description != null && description.length > MAX_DESCRIPTION) {
      throw fail.badInput("description", `A description is at most ${MAX_DESCRIPTION} characters.`);
    }
  }

  /** Each webhook is a delivery loop: a workspace may have `PLUGBOARD_MAX_WEBHOOKS` (README "Limits"). */
  private async checkQuota(workspaceId: string): Promise<void> {
    const limit = this.env.PLUGBOARD_MAX_WEBHOOKS;
    const [row] = await this.db
      .select({ count: sql<number>`count(*)::int` })
      .from(webhooks)
      .where(eq(webhooks.workspaceId, workspaceId));
    if ((row?.count ?? 0) >= limit) {
      throw fail.conflict(`This workspace has ${limit} webhooks, the most it may have; delete one first.`, {
        limit,
      });
    }
  }

  async create(
    actor: Actor,
    input: {
      url: string;
      filter?: ChangeFilter | null;
      description?: string | null;
      includeSchemaChanges?: boolean | null;
    },
  ): Promise<{ webhook: WebhookRow; secret: string }> {
    requireScope(actor, "READ");
    const filter = await this.checkFilter(actor, input.filter);
    this.checkDescription(input.description);
    await this.checkQuota(actor.workspaceId);
    // Last: it resolves the host.
    const url = await checkTarget(input.url, this.env.PLUGBOARD_WEBHOOK_ALLOW_PRIVATE);
    const secret = newSecret();
    // A new webhook starts at the head: it receives changes committed after its creation.
    const head = await this.feed.settledHead(actor.workspaceId);
    const [webhook] = await this.db
      .insert(webhooks)
      .values({
        id: newId("webhook"),
        workspaceId: actor.workspaceId,
        createdById: actor.memberId,
        url: url.toString(),
        description: input.description ?? null,
        filter,
        secret,
        includeSchemaChanges: input.includeSchemaChanges ?? false,
        cursor: head,
      })
      .returning();
    if (!webhook) throw new Error("insert returned no row");
    return { webhook, secret };
  }

  async update(
    actor: Actor,
    input: {
      id: string;
      url?: string | null;
      filter?: ChangeFilter | null;
      description?: string | null;
      includeSchemaChanges?: boolean | null;
      enabled?: boolean | null;
    },
  ): Promise<WebhookRow> {
    const current = await this.require(actor, input.id);
    const set: Partial<typeof webhooks.$inferInsert> = {};
    if (input.url != null) {
      set.url = (await checkTarget(input.url, this.env.PLUGBOARD_WEBHOOK_ALLOW_PRIVATE)).toString();
    }
    if (input.filter !== undefined) set.filter = await this.checkFilter(actor, input.filter);
    if (input.description !== undefined) {
      this.checkDescription(input.description);
      set.description = input.description;
    }
    if (input.includeSchemaChanges != null) set.includeSchemaChanges = input.includeSchemaChanges;
    if (input.enabled === true && current.status === "DISABLED") {
      if (!(await creatorActor(this.db, current)))
        throw fail.badInput("enabled", `${CREATOR_LEFT} Create a new webhook instead.`);
      // Resumes from its cursor: changes committed while it was disabled are delivered too.
      Object.assign(set, {
        status: "ACTIVE",
        disabledReason: null,
        consecutiveFailures: 0,
        failingSince: null,
      });
    }
    if (input.enabled === false && current.status === "ACTIVE") {
      Object.assign(set, { status: "DISABLED", disabledReason: "Disabled with updateWebhook." });
    }
    if (Object.keys(set).length === 0) return current;
    const [row] = await this.db
      .update(webhooks)
      .set({ ...set, updatedAt: sql`now()` })
      .where(eq(webhooks.id, current.id))
      .returning();
    if (!row) throw fail.notFound(`No webhook with id ${JSON.stringify(input.id)}.`);
    if (row.status === "ACTIVE") this.wake();
    return row;
  }

  async delete(actor: Actor, id: string): Promise<string> {
    const current = await this.require(actor, id);
    await this.db.delete(webhooks).where(eq(webhooks.id, current.id));
    return current.id;
  }

  /** A new secret; the current one keeps signing (a second signature) for the overlap. */
  async rotateSecret(
    actor: Actor,
    input: { id: string; expireCurrentInSeconds?: number | null },
  ): Promise<{ webhook: WebhookRow; secret: string }> {
    const current = await this.require(actor, input.id);
    const overlap = input.expireCurrentInSeconds ?? 86_400;
    if (!Number.isInteger(overlap) || overlap < 0 || overlap > MAX_OVERLAP_SECONDS) {
      throw fail.badInput("expireCurrentInSeconds", `Give whole seconds from 0 to ${MAX_OVERLAP_SECONDS}.`);
    }
    const secret = newSecret();
    const [webhook] = await this.db
      .update(webhooks)
      .set({
        secret,
        previousSecret: overlap > 0 ? current.secret : null,
        previousSecretExpiresAt: overlap > 0 ? sql`now() + make_interval(secs => ${overlap})` : null,
        updatedAt: sql`now()`,
      })
      .where(eq(webhooks.id, current.id))
      .returning();
    if (!webhook) throw fail.notFound(`No webhook with id ${JSON.stringify(input.id)}.`);
    return { webhook, secret };
  }

  /** Sends a `ping` (a delivery with no change) through the same queue as every delivery. */
  async test(actor: Actor, id: string): Promise<DeliveryWithAttempts> {
    const webhook = await this.require(actor, id);
    const [delivery] = await this.db
      .insert(webhookDeliveries)
      .values({
        id: newId("delivery"),
        webhookId: webhook.id,
        workspaceId: webhook.workspaceId,
        changeSeq: null,
        eventType: "ping",
        data: {},
        nextAttemptAt: sql`now()`,
      })
      .returning();
    if (!delivery) throw new Error("insert returned no row");
    this.wake();
    return { ...delivery, attempts: [] };
  }

  /** Puts a delivery back in the queue with a fresh retry budget; it keeps its id (`webhook-id`). */
  async redeliver(actor: Actor, deliveryId: string): Promise<DeliveryWithAttempts> {
    const delivery = await this.delivery(actor, deliveryId);
    if (!delivery) throw fail.notFound(`No delivery with id ${JSON.stringify(deliveryId)}.`);
    const [row] = await this.db
      .update(webhookDeliveries)
      .set({ status: "PENDING", roundAttempts: 0, nextAttemptAt: sql`now()` })
      .where(eq(webhookDeliveries.id, delivery.id))
      .returning();
    if (!row) throw fail.notFound(`No delivery with id ${JSON.stringify(deliveryId)}.`);
    this.wake();
    return { ...row, attempts: delivery.attempts };
  }

  /** Moves the cursor back to `after`: every matching change since is (re)sent, on the same delivery rows. */
  async replay(actor: Actor, input: { id: string; after: string }): Promise<WebhookRow> {
    const current = await this.require(actor, input.id);
    const after = parseCursor(input.after) ?? 0;
    // Throws CURSOR_EXPIRED (with oldestCursor) when those changes are no longer retained, and
    // BAD_USER_INPUT for a cursor past the head (read in the same statement, never stale).
    await this.feed.readAfter(current.workspaceId, after, 1, MATCH_NOTHING, true);
    const [row] = await this.db
      .update(webhooks)
      .set({ cursor: after, updatedAt: sql`now()` })
      .where(eq(webhooks.id, current.id))
      .returning();
    if (!row) throw fail.notFound(`No webhook with id ${JSON.stringify(input.id)}.`);
    this.wake();
    return row;
  }

  /** A webhook's deliveries, newest first (keyset on the time-ordered id), with their attempts. */
  async deliveries(
    actor: Actor,
    webhook: WebhookRow,
    args: { first?: number | null; after?: string | null; status?: DeliveryStatus | null },
  ): Promise<DeliveryPage> {
    requireScope(actor, "READ");
    const first = args.first ?? 20;
    if (!Number.isInteger(first) || first < 0 || first > MAX_DELIVERIES_PAGE) {
      throw fail.badInput("first", `first must be between 0 and ${MAX_DELIVERIES_PAGE}.`);
    }
    const conditions = [eq(webhookDeliveries.webhookId, webhook.id)];
    if (args.after != null) {
      // The cursor is a delivery id: anything else was not made here (and NUL bytes would be a
      // database error, not a bad input).
      if (!DELIVERY_ID.test(args.after) || idKind(args.after) !== "delivery")
        throw fail.badInput(
          "after",
          "after is not a cursor of this connection; pass an endCursor it returned.",
        );
      conditions.push(lt(webhookDeliveries.id, args.after));
    }
    if (args.status) conditions.push(eq(webhookDeliveries.status, args.status));
    const rows = await this.db
      .select()
      .from(webhookDeliveries)
      .where(and(...conditions))
      .orderBy(desc(webhookDeliveries.id))
      .limit(first + 1);
    const page = rows.slice(0, first);
    const nodes = await this.withAttempts(page);
    return { nodes, hasNextPage: rows.length > first, endCursor: page[page.length - 1]?.id ?? null };
  }

  /** A delivery of a webhook the actor may see, or null. */
  async delivery(actor: Actor, id: string): Promise<DeliveryWithAttempts | null> {
    requireScope(actor, "READ");
    const [row] = await this.db
      .select({ delivery: webhookDeliveries })
      .from(webhookDeliveries)
      .innerJoin(webhooks, eq(webhooks.id, webhookDeliveries.webhookId))
      .where(and(eq(webhookDeliveries.id, id), this.visibleTo(actor)));
    if (!row) return null;
    const [withAttempts] = await this.withAttempts([row.delivery]);
    return withAttempts ?? null;
  }

  /** Attempts for a page of deliveries in one query (no N+1). */
  private async withAttempts(rows: DeliveryRow[]): Promise<DeliveryWithAttempts[]> {
    if (rows.length === 0) return [];
    const attempts = await this.db
      .select()
      .from(webhookAttempts)
      .where(
        inArray(
          webhookAttempts.deliveryId,
          rows.map((r) => r.id),
        ),
      )
      .orderBy(webhookAttempts.attempt);
    return rows.map((row) => ({ ...row, attempts: attempts.filter((a) => a.deliveryId === row.id) }));
  }
}

/** MemberService.onRemoved: a removed member's webhooks stop at once, in the removal's transaction. */
export async function disableCreatorWebhooks(tx: Db, workspaceId: string, memberId: string): Promise<void> {
  await tx
    .update(webhooks)
    .set({ status: "DISABLED", disabledReason: CREATOR_LEFT, updatedAt: sql`now()` })
    .where(
      and(
        eq(webhooks.workspaceId, workspaceId),
        eq(webhooks.createdById, memberId),
        eq(webhooks.status, "ACTIVE"),
      ),
    );
}
