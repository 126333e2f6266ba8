import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import { members, workspaces } from "../auth/tables.ts";
import type { ActorSet, ChangeTransition } from "../ledger/tables.ts";

export const webhookStatusEnum = pgEnum("webhook_status", ["ACTIVE", "DISABLED"]);
export const deliveryStatusEnum = pgEnum("delivery_status", ["PENDING", "SUCCEEDED", "FAILED", "SKIPPED"]);

/**
 * The filter as the creator gave it (each list empty = any), re-resolved against the catalog on
 * every pass. `excludeSelf` is stored as what it meant when given (in `excludeActors`): the
 * worker reads as the creator's member, not with the credential that created the webhook.
 */
export interface StoredFilter {
  types: string[];
  kinds: ("CREATED" | "UPDATED" | "DELETED" | "RESTORED")[];
  fields: string[];
  resourceIds: string[];
  /** A `ResourceFilter`, checked when stored (typed loosely: this file stays free of resources' code). */
  where?: unknown;
  transitions?: ChangeTransition[];
  excludeActors?: ActorSet | null;
  origins?: string[];
  excludeOrigins?: string[];
}

const at = (name: string) => timestamp(name, { withTimezone: true, precision: 3 });

/**
 * A webhook is a consumer of the change feed with its own cursor and filter (docs/architecture.md,
 * invariant 2).
 *
 * Secrets must be recoverable to sign, so they cannot be hashed: they live only in `secret` /
 * `previous_secret`, are never selected by the GraphQL read paths, and are shown to the user once.
 * Protecting them at rest is the database's job (access control, disk encryption), as for
 * PostgreSQL's own credentials.
 */
export const webhooks = pgTable(
  "webhooks",
  {
    id: text("id").primaryKey(),
    workspaceId: text("workspace_id")
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    createdById: text("created_by_id")
      .notNull()
      .references(() => members.id, { onDelete: "cascade" }),
    url: text("url").notNull(),
    description: text("description"),
    filter: jsonb("filter").$type<StoredFilter>().notNull(),
    secret: text("secret").notNull(),
    /** The secret before the last rotation; it keeps signing until `previous_secret_expires_at`. */
    previousSecret: text("previous_secret"),
    previousSecretExpiresAt: at("previous_secret_expires_at"),
    status: webhookStatusEnum("status").notNull().default("ACTIVE"),
    disabledReason: text("disabled_reason"),
    consecutiveFailures: integer("consecutive_failures").notNull().default(0),
    /** Start of the current run of failed attempts; five days of it disables the webhook. */
    failingSince: at("failing_since"),
    lastDeliveryAt: at("last_delivery_at"),
    /** Also deliver schema changes (types, fields, access) the creator can see, enqueued as they commit. */
    includeSchemaChanges: boolean("include_schema_changes").notNull().default(false),
    /** The last change id the worker has turned into deliveries (or passed over). */
    cursor: bigint("cursor", { mode: "number" }).notNull(),
    /** Which process is delivering for this webhook, and until when (a killed process's lease lapses). */
    leaseOwner: text("lease_owner"),
    leaseUntil: at("lease_until"),
    createdAt: at("created_at").notNull().defaultNow(),
    updatedAt: at("updated_at").notNull().defaultNow(),
  },
  (t) => [
    index("webhooks_workspace_idx").on(t.workspaceId, t.createdAt),
    index("webhooks_creator_idx").on(t.createdById),
  ],
);

/** One per (webhook, change), for ever; pings have no change. */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    /** Delivery order within a webhook: change order, since a pass inserts its deliveries in seq order. */
    position: bigserial("position", { mode: "number" }).notNull(),
    webhookId: text("webhook_id")
      .notNull()
      .references(() => webhooks.id, { onDelete: "cascade" }),
    workspaceId: text("workspace_id").notNull(),
    changeSeq: bigint("change_seq", { mode: "number" }),
    eventType: text("event_type").notNull(),
    /**
     * A schema change's payload data (it has no change id to read it back by), `{}` for a ping. Null
     * for a resource change: the change is read by `change_seq` and trimmed for the creator when sent,
     * so no copy of it (and of values the creator may lose access to) is kept here.
     */
    data: jsonb("data").$type<Record<string, unknown>>(),
    status: deliveryStatusEnum("status").notNull().default("PENDING"),
    attemptCount: integer("attempt_count").notNull().default(0),
    /** Attempts since the last (re)start: the retry schedule counts these; redelivery resets them. */
    roundAttempts: integer("round_attempts").notNull().default(0),
    nextAttemptAt: at("next_attempt_at"),
    lastAttemptAt: at("last_attempt_at"),
    createdAt: at("created_at").notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("webhook_deliveries_change_key").on(t.webhookId, t.changeSeq),
    index("webhook_deliveries_due_idx").on(t.webhookId, t.nextAttemptAt).where(sql`${t.status} = 'PENDING'`),
    index("webhook_deliveries_list_idx").on(t.webhookId, t.id),
    index("webhook_deliveries_created_idx").on(t.createdAt),
  ],
);

export const webhookAttempts = pgTable(
  "webhook_attempts",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    deliveryId: text("delivery_id")
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: "cascade" }),
    attempt: integer("attempt").notNull(),
    at: at("at").notNull(),
    responseStatus: integer("response_status"),
    durationMs: integer("duration_ms").notNull(),
    error: text("error"),
    responseBody: text("response_body"),
  },
  (t) => [index("webhook_attempts_delivery_idx").on(t.deliveryId, t.attempt)],
);

export type WebhookRow = typeof webhooks.$inferSelect;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;
export type AttemptRow = typeof webhookAttempts.$inferSelect;
